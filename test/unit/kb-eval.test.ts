/**
 * The knowledge-base evaluation (eval/kb/pairs.csv, written from published lists, not from the
 * knowledge base) over the starter content, held to the goals `npm run eval:kb` reports.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EvalPair, evaluate } from '../../src/knowledge/evaluation.js';
import { parseCsv } from '../../src/knowledge/importer.js';
import { useStarterKb } from '../helpers/kb.js';

const pairs = parseCsv(readFileSync('eval/kb/pairs.csv', 'utf8')).rows.map((r) => EvalPair.parse(r.values));
const starter = useStarterKb();

describe('eval:kb over the starter knowledge base', () => {
  it('has at least 300 interacting and 150 non-interacting pairs, each with a source', () => {
    expect(pairs.filter((p) => p.expected === 'interacts').length).toBeGreaterThanOrEqual(300);
    expect(pairs.filter((p) => p.expected === 'none').length).toBeGreaterThanOrEqual(150);
    expect(pairs.filter((p) => p.source.length < 20)).toEqual([]);
  });

  it('meets the goals: recall ≥ 95 %, false flags ≤ 5 %, unknown drug names ≤ 2 %', () => {
    const { report } = evaluate(starter.snapshot(), pairs);
    expect(report.drugs.unknown).toEqual([]);
    expect(report.overall.recall).toBeGreaterThanOrEqual(0.95);
    expect(report.overall.falseFlagRate).toBeLessThanOrEqual(0.05);
    expect(report.byGroup['onc-high-priority']!.recall).toBe(1);
  });

  it('counts a pair with an unknown drug as missed, never as caught or as a correct negative', () => {
    const made = [
      {
        a: 'warfarin',
        b: 'notadrugatall',
        expected: 'interacts',
        group: 'x',
        source: 'a test pair',
        note: '',
        age: '',
      },
      { a: 'paracetamol', b: 'notadrugatall', expected: 'none', group: 'x', source: 'a test pair', note: '', age: '' },
    ].map((p) => EvalPair.parse(p));
    const { report } = evaluate(starter.snapshot(), made);
    expect(report.overall).toMatchObject({ caught: 0, recall: 0, falseFlags: 0, pairsWithUnknown: 2 });
    expect(report.drugs.unknown).toEqual(['notadrugatall']);
  });
});
