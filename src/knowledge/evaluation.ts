/**
 * Evaluation of the interaction checks against a pairs table written independently of the
 * knowledge base (eval/kb/pairs.csv: a, b, expected `interacts` or `none`, group, source).
 * A pair counts as flagged when the interaction or the duplicate-therapy check finds anything
 * for the two drugs together (what a prescriber would see), or, for a pair with an `age`, the
 * older-adult check finds a criterion naming both; a pair with a drug the knowledge
 * base does not know is counted as unknown — never as caught, never as a correct negative.
 */
import { z } from 'zod';
import { SafetyCheckInput, type SafetyCheckKind } from '../domain/knowledge.js';
import { runCheck } from './checks.js';
import type { KbSnapshot } from './snapshot.js';

export const EvalPair = z.object({
  a: z.string().min(1),
  b: z.string().min(1),
  expected: z.enum(['interacts', 'none']),
  group: z.string().min(1),
  source: z.string().min(1),
  note: z.string().default(''),
  /**
   * The patient's age, for pairs from older-adult criteria (AGS Beers Table 5): the
   * older-adult check then runs too, as it would for that patient. Empty: no age.
   */
  age: z.preprocess(
    (v) => (v === '' || v === undefined ? null : Number(v)),
    z.number().int().min(0).max(120).nullable(),
  ),
});
export type EvalPair = z.infer<typeof EvalPair>;

export interface PairOutcome {
  pair: EvalPair;
  flagged: boolean;
  unknown: string[];
  findings: Array<{ kind: SafetyCheckKind; severity: string; summary: string; factIds: string[] }>;
}

export interface Rates {
  interacting: number;
  caught: number;
  /** Caught / interacting pairs (pairs with an unknown drug count as missed). */
  recall: number | null;
  nonInteracting: number;
  falseFlags: number;
  falseFlagRate: number | null;
  /** Pairs in which at least one drug is unknown. */
  pairsWithUnknown: number;
  unknownPairRate: number | null;
}

export interface EvaluationReport {
  kbRevision: number;
  pairs: number;
  overall: Rates;
  byGroup: Record<string, Rates>;
  /** Distinct drug names in the table and the ones the knowledge base does not know. */
  drugs: { distinct: number; unknown: string[]; unknownRate: number };
  missed: Array<{ a: string; b: string; group: string; unknown: string[] }>;
  falseFlags: Array<{ a: string; b: string; by: string[] }>;
}

const KINDS: SafetyCheckKind[] = ['interaction', 'duplicate_therapy'];
const ratio = (n: number, d: number) => (d ? Math.round((n / d) * 10000) / 10000 : null);

export function evaluatePair(kb: KbSnapshot, pair: EvalPair): PairOutcome {
  const medications = [pair.a, pair.b].map((name) => ({ name, dose: null, route: null, frequencyPerDay: null }));
  const findings: PairOutcome['findings'] = [];
  let unknown: string[] = [];
  const kinds: SafetyCheckKind[] = pair.age === null ? KINDS : [...KINDS, 'older_adult'];
  const ageBand = pair.age === null ? null : String(pair.age);
  for (const kind of kinds) {
    const out = runCheck(kb, SafetyCheckInput.parse({ kind, medications, ageBand, requestedBy: 'eval:kb' }));
    unknown = out.unknownTerms;
    for (const f of out.findings) {
      // An older-adult criterion about one of the two drugs alone says nothing about the pair.
      if (kind === 'older_adult' && f.medications.length < 2) continue;
      findings.push({ kind, severity: f.severity, summary: f.summary, factIds: f.factIds.slice(0, 3) });
    }
  }
  return { pair, flagged: findings.length > 0, unknown, findings };
}

function rates(outcomes: readonly PairOutcome[]): Rates {
  const pos = outcomes.filter((o) => o.pair.expected === 'interacts');
  const neg = outcomes.filter((o) => o.pair.expected === 'none');
  const caught = pos.filter((o) => o.flagged && !o.unknown.length).length;
  const falseFlags = neg.filter((o) => o.flagged).length;
  const withUnknown = outcomes.filter((o) => o.unknown.length).length;
  return {
    interacting: pos.length,
    caught,
    recall: ratio(caught, pos.length),
    nonInteracting: neg.length,
    falseFlags,
    falseFlagRate: ratio(falseFlags, neg.length),
    pairsWithUnknown: withUnknown,
    unknownPairRate: ratio(withUnknown, outcomes.length),
  };
}

export function evaluate(
  kb: KbSnapshot,
  pairs: readonly EvalPair[],
): { report: EvaluationReport; outcomes: PairOutcome[] } {
  const outcomes = pairs.map((p) => evaluatePair(kb, p));
  const groups = [...new Set(pairs.map((p) => p.group))].sort();
  const names = new Set(pairs.flatMap((p) => [p.a.toLowerCase(), p.b.toLowerCase()]));
  const unknownNames = [...new Set(outcomes.flatMap((o) => o.unknown.map((u) => u.toLowerCase())))].sort();
  return {
    outcomes,
    report: {
      kbRevision: kb.revision,
      pairs: pairs.length,
      overall: rates(outcomes),
      byGroup: Object.fromEntries(groups.map((g) => [g, rates(outcomes.filter((o) => o.pair.group === g))])),
      drugs: { distinct: names.size, unknown: unknownNames, unknownRate: ratio(unknownNames.length, names.size) ?? 0 },
      missed: outcomes
        .filter((o) => o.pair.expected === 'interacts' && (!o.flagged || o.unknown.length))
        .map((o) => ({ a: o.pair.a, b: o.pair.b, group: o.pair.group, unknown: o.unknown })),
      falseFlags: outcomes
        .filter((o) => o.pair.expected === 'none' && o.flagged)
        .map((o) => ({ a: o.pair.a, b: o.pair.b, by: o.findings.map((f) => `${f.kind}: ${f.summary}`) })),
    },
  };
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);

/** The report as the markdown table in docs/knowledge-base.md. */
export function reportMarkdown(r: EvaluationReport): string {
  const row = (name: string, x: Rates) =>
    `| ${name} | ${x.interacting} | ${x.interacting ? `${x.caught} (${pct(x.recall)})` : '–'} | ${x.nonInteracting} | ${x.nonInteracting ? `${x.falseFlags} (${pct(x.falseFlagRate)})` : '–'} | ${x.pairsWithUnknown} |`;
  return [
    `Knowledge base revision ${r.kbRevision}; ${r.pairs} pairs; ${r.drugs.distinct} distinct drug names, ${r.drugs.unknown.length} unknown (${pct(r.drugs.unknownRate)})${r.drugs.unknown.length ? `: ${r.drugs.unknown.join(', ')}` : ''}.`,
    '',
    '| group | interacting pairs | caught (recall) | non-interacting pairs | flagged (false-flag rate) | pairs with an unknown drug |',
    '| --- | --- | --- | --- | --- | --- |',
    row('**overall**', r.overall),
    ...Object.entries(r.byGroup).map(([g, x]) => row(g, x)),
  ].join('\n');
}
