/**
 * The case lifecycle table (src/cases/lifecycle.ts): its operations, the closed and terminal
 * statuses, and the state diagram generated from it into docs/architecture.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CaseLifecycle,
  CaseStatus,
  CLOSED_STATUSES,
  INITIAL_STATUS,
  isClosed,
  lifecycleDocBlock,
  TERMINAL_STATUSES,
  TRANSITIONS,
  type Operation,
} from '../../src/cases/lifecycle.js';
import { GraphPhase } from '../../src/graphs/clinical-case/state.js';

const rows = Object.entries(TRANSITIONS) as [Operation, (typeof TRANSITIONS)[Operation]][];
const targets = (op: Operation, from: CaseStatus): readonly CaseStatus[] => {
  const to = TRANSITIONS[op].to;
  return to === 'unchanged' ? [from] : to;
};

describe('case lifecycle table', () => {
  it('has one row per named operation of CaseLifecycle, and no operation without a row', () => {
    const methods = Object.getOwnPropertyNames(CaseLifecycle.prototype).filter(
      // create starts a record; restore is recovery's (RESTORE: any status or none, to the durable records' status).
      (m) => !['constructor', 'apply', 'create', 'restore'].includes(m),
    );
    expect(methods.sort()).toEqual(Object.keys(TRANSITIONS).sort());
  });

  it('names only known statuses, and every operation applies from at least one', () => {
    for (const [op, t] of rows) {
      expect(t.from.length, op).toBeGreaterThan(0);
      for (const s of [...t.from, ...(t.to === 'unchanged' ? [] : t.to)]) expect(CaseStatus.options, op).toContain(s);
    }
  });

  it('leaves closed statuses only through recordDelivery, which keeps the status; failed not at all', () => {
    for (const status of TERMINAL_STATUSES) {
      const leaving = rows.filter(([, t]) => (t.from as readonly CaseStatus[]).includes(status)).map(([op]) => op);
      expect(leaving, status).toEqual(isClosed(status) ? ['recordDelivery'] : []);
      for (const op of leaving) expect(targets(op, status), `${op} from ${status}`).toEqual([status]);
    }
  });

  it('reaches every status from the initial one', () => {
    const reached = new Set<CaseStatus>([INITIAL_STATUS]);
    for (let grew = true; grew;) {
      grew = false;
      for (const [op, t] of rows)
        for (const from of t.from)
          if (reached.has(from))
            for (const to of targets(op, from)) if (!reached.has(to)) grew = Boolean(reached.add(to));
    }
    expect([...reached].sort()).toEqual([...CaseStatus.options].sort());
  });

  it('isClosed is true exactly for the closed statuses, and terminal = closed + failed', () => {
    expect(CaseStatus.options.filter(isClosed)).toEqual([...CLOSED_STATUSES]);
    expect([...TERMINAL_STATUSES].sort()).toEqual([...CLOSED_STATUSES, 'failed'].sort());
  });

  it("the graph's phase shares its review and closed members with CaseStatus, plus drafting", () => {
    expect(GraphPhase.options).toEqual(['drafting', 'awaiting_review', ...CLOSED_STATUSES]);
    for (const phase of GraphPhase.options.filter((p) => p !== 'drafting')) expect(CaseStatus.options).toContain(phase);
  });
});

describe('lifecycle diagram', () => {
  it('docs/architecture.md holds the diagram generated from the table (npm run docs:lifecycle)', () => {
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    expect(doc).toContain(lifecycleDocBlock());
  });

  it('draws every from/to pair of every operation', () => {
    const block = lifecycleDocBlock();
    for (const [op, t] of rows)
      for (const from of t.from)
        for (const to of targets(op, from)) expect(block).toMatch(new RegExp(`${from} --> ${to}: [^\\n]*\\b${op}\\b`));
  });
});
