/**
 * Scoring of the clinical evaluation (src/evaluation/cases.ts): what counts as caught, as an
 * unexpected high/critical finding and as actionable. SYNTHETIC findings; drug names resolved by
 * the starter knowledge base.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CareAction } from '../../src/domain/care-reasoning.js';
import type { SafetyFinding } from '../../src/domain/knowledge.js';
import { EvalCaseFile, scoreCase, summarise } from '../../src/evaluation/cases.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();
const finding = (
  kind: SafetyFinding['kind'],
  severity: SafetyFinding['severity'],
  medications: string[],
  summary: string,
) =>
  ({ kind, severity, medications, summary, explanation: '', management: null, factIds: ['x'] }) satisfies SafetyFinding;
const caseFile = (findings: unknown[], notExpected: unknown[] = []) =>
  EvalCaseFile.parse({
    synthetic: true,
    asOf: '2026-12-01T09:00:00Z',
    description: 'SYNTHETIC. test',
    covers: ['interaction'],
    expected: { findings, notExpected },
    submission: { caseId: 'eval-test' },
  });
const expectation = (kind: string, drugs: string[], severity = 'high') => ({
  kind,
  drugs,
  severity,
  recommendation: 'alternative',
  source: 'A named source for the test',
});
const act = (f: SafetyFinding, actionable: boolean): CareAction => ({
  id: `switch:${f.medications[0]}`,
  kind: 'switch',
  finding: { kind: f.kind, severity: f.severity, summary: f.summary, medications: f.medications },
  medication: f.medications[0]!,
  alsoFor: [],
  text: 't',
  order: null,
  dose: null,
  alternatives: [],
  excluded: [],
  noAlternativeReason: actionable ? null : 'none',
  actionable,
  chain: [],
  factIds: [],
});

describe('case evaluation scoring', () => {
  it('matches brand and Chinese names to the generic in the expectation, and counts actionable findings', () => {
    const ix = finding('interaction', 'high', ['Coumadin', '布洛芬'], 'Coumadin with 布洛芬: bleeding');
    const extra = finding('dose', 'critical', ['metformin'], 'metformin: contraindicated');
    const s = scoreCase(
      starter.snapshot(),
      'x.json',
      caseFile([expectation('interaction', ['warfarin', 'ibuprofen'])]),
      {
        findings: [ix, extra],
        actions: [act(ix, true), act(extra, false)],
        monitoring: [],
      },
    );
    expect(s).toMatchObject({ caught: 1, expected: 1, highFindings: 2, actionable: 1 });
    expect(s.unexpectedHigh.map((u) => u.summary)).toEqual(['metformin: contraindicated']);
    expect(s.notActionable[0]!.why).toBe('none');
  });

  it('a combination of three drugs is met by pairwise findings that together name all three; a missing one is missed', () => {
    const a = finding('interaction', 'high', ['lisinopril', 'naproxen'], 'a');
    const b = finding('interaction', 'moderate', ['furosemide', 'naproxen'], 'b');
    const triple = caseFile([expectation('interaction', ['lisinopril', 'furosemide', 'naproxen'])]);
    expect(
      scoreCase(starter.snapshot(), 'x.json', triple, { findings: [a, b], actions: [], monitoring: [] }).caught,
    ).toBe(1);
    expect(scoreCase(starter.snapshot(), 'x.json', triple, { findings: [a], actions: [], monitoring: [] }).caught).toBe(
      0,
    );
  });

  it('reports a finding the case says must not be raised, and a case that failed to run', () => {
    const f = finding('interaction', 'moderate', ['simvastatin', 'amlodipine'], 'simvastatin with amlodipine');
    const c = caseFile([], [{ kind: 'interaction', drugs: ['simvastatin', 'amlodipine'], reason: 'r', source: 's' }]);
    expect(
      scoreCase(starter.snapshot(), 'x.json', c, { findings: [f], actions: [], monitoring: [] }).notExpectedRaised,
    ).toHaveLength(1);
    const failed = scoreCase(starter.snapshot(), 'y.json', c, null, 'boom');
    expect(summarise([failed])).toMatchObject({ errors: 1, caughtShare: 1 });
  });

  it('every case file in eval/cases is synthetic, sourced and well-formed', () => {
    const dir = path.resolve('eval/cases');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const f of files) {
      const c = EvalCaseFile.parse(JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
      expect(c.submission.caseId, f).toBe(`eval-${f.slice(0, 3)}`);
    }
  });
});
