/**
 * The clinical evaluation (`npm run eval:cases`): synthetic multi-problem cases (eval/cases/),
 * each with the findings a careful pharmacist expects and the kind of recommendation, every
 * expectation with its source. A case is run through `co case run` (the real graph, in
 * knowledge-driven mode); this module scores what came back:
 *
 * - expected findings caught (kind and drugs; drugs compared as knowledge-base ingredients, so a
 *   brand, a Chinese name or a misspelling in the record matches the generic in the expectation);
 * - unexpected high/critical findings (raised but not expected: a false alarm, or a gap in the
 *   expectations), and findings the case says must not be raised;
 * - actionable: the share of high/critical findings answered by an action that is actionable
 *   (an alternative that passed its checks, or a concrete dose);
 * - whether the recommendation kind and any named acceptable alternative match.
 *
 * Goals: findings caught ≥ 95 %, actionable ≥ 90 %.
 */
import { z } from 'zod';
import type { CareAction, CareReasoningResult } from '../domain/care-reasoning.js';
import { SafetyCheckKind, type SafetyFinding } from '../domain/knowledge.js';
import { SEVERITY_RANK, Severity } from '../domain/plan.js';
import { ingredientsOf, resolveTerm } from '../knowledge/resolve.js';
import type { KbSnapshot } from '../knowledge/snapshot.js';

export const GOALS = { caught: 0.95, actionable: 0.9 } as const;

const Drugs = z.array(z.string().min(1)).min(1);
export const ExpectedFinding = z.object({
  kind: SafetyCheckKind,
  drugs: Drugs,
  severity: Severity,
  recommendation: z.enum(['alternative', 'dose_adjustment', 'stop', 'monitor']),
  acceptableAlternatives: z.array(z.string()).optional(),
  target: z.string().optional(),
  source: z.string().min(10),
});
export type ExpectedFinding = z.infer<typeof ExpectedFinding>;

export const EvalCaseFile = z.object({
  synthetic: z.literal(true),
  asOf: z.string(),
  description: z.string().startsWith('SYNTHETIC'),
  covers: z.array(z.string()).min(1),
  expected: z.object({
    findings: z.array(ExpectedFinding),
    notExpected: z
      .array(z.object({ kind: SafetyCheckKind, drugs: Drugs, reason: z.string(), source: z.string() }))
      .default([]),
  }),
  submission: z.object({ caseId: z.string() }).passthrough(),
});
export type EvalCaseFile = z.infer<typeof EvalCaseFile>;

/** Kinds that name the same problem from two angles (a renal "avoid" band is a dose finding or a drug–disease one). */
const KIND_GROUP: Record<string, string> = { dose: 'renal-or-dose', contraindication: 'renal-or-dose' };
const sameKind = (a: string, b: string) => a === b || (KIND_GROUP[a] !== undefined && KIND_GROUP[a] === KIND_GROUP[b]);

/** The ingredient ids a name stands for (a product's ingredients, a class itself), or the folded name when unknown. */
export function drugKeys(kb: KbSnapshot, name: string): Set<string> {
  const r = resolveTerm(kb, name, 'medication');
  const keys = new Set<string>();
  for (const e of r.entities) {
    const ings = ingredientsOf(kb, e.id);
    if (ings.length) for (const i of ings) keys.add(i.id);
    else keys.add(e.id);
  }
  if (!keys.size) keys.add(`name:${name.trim().toLowerCase()}`);
  return keys;
}

const intersects = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((x) => b.has(x));

function matches(
  kb: KbSnapshot,
  expected: { kind: string; drugs: string[] },
  f: SafetyFinding,
  cache: Map<string, Set<string>>,
): boolean {
  if (!sameKind(expected.kind, f.kind)) return false;
  const keys = (n: string) => {
    let k = cache.get(n);
    if (!k) cache.set(n, (k = drugKeys(kb, n)));
    return k;
  };
  const found = f.medications.map(keys);
  return expected.drugs.every((d) => found.some((k) => intersects(keys(d), k)));
}

/** Drug–drug kinds: an interaction expectation is met by an older-adult drug–drug criterion too (Beers Table 5). */
const drugDrug = (kind: string, f: SafetyFinding) =>
  kind === 'interaction' && (f.kind === 'interaction' || (f.kind === 'older_adult' && f.medications.length > 1));

/**
 * Findings that meet an expectation. Checks are pairwise, so an expected combination of three or
 * more drugs (a "triple whammy", three CNS-active drugs) is met when pairwise findings among them
 * together name every drug.
 */
function hitsFor(
  kb: KbSnapshot,
  e: { kind: string; drugs: string[] },
  findings: readonly SafetyFinding[],
  cache: Map<string, Set<string>>,
): SafetyFinding[] {
  const direct = findings.filter(
    (f) => matches(kb, e, f, cache) || (drugDrug(e.kind, f) && matches(kb, { ...e, kind: f.kind }, f, cache)),
  );
  if (direct.length || e.drugs.length < 3 || e.kind !== 'interaction') return direct;
  const pairs = findings.filter(
    (f) =>
      drugDrug(e.kind, f) &&
      f.medications.length >= 2 &&
      e.drugs.filter((d) => matches(kb, { kind: f.kind, drugs: [d] }, f, cache)).length >= 2,
  );
  const covered = e.drugs.every((d) => pairs.some((f) => matches(kb, { kind: f.kind, drugs: [d] }, f, cache)));
  return covered ? pairs : [];
}

export interface CaseScore {
  file: string;
  caseId: string;
  covers: string[];
  expected: number;
  caught: number;
  missed: Array<{ kind: string; drugs: string[]; severity: string }>;
  severityDiffers: Array<{ drugs: string[]; expected: string; got: string }>;
  unexpectedHigh: Array<{ kind: string; severity: string; summary: string }>;
  notExpectedRaised: Array<{ kind: string; summary: string; reason: string }>;
  highFindings: number;
  actionable: number;
  notActionable: Array<{ summary: string; why: string }>;
  recommendationKindMatched: number;
  alternativesNamed: number;
  alternativesMatched: number;
  error: string | null;
}

const actionableFor = (actions: readonly CareAction[], f: SafetyFinding) =>
  actions.filter((a) => a.finding.summary === f.summary || a.alsoFor.includes(f.summary));

function kindMatches(rec: ExpectedFinding['recommendation'], actions: readonly CareAction[]): boolean {
  switch (rec) {
    case 'alternative':
      return actions.some((a) => a.alternatives.length > 0);
    case 'dose_adjustment':
      return actions.some((a) => a.kind === 'dose_adjustment');
    case 'stop':
      return actions.some((a) => a.kind !== 'dose_adjustment');
    case 'monitor':
      return true;
  }
}

export function scoreCase(
  kb: KbSnapshot,
  file: string,
  c: EvalCaseFile,
  reasoning: Pick<CareReasoningResult, 'findings' | 'actions' | 'monitoring'> | null,
  error: string | null = null,
): CaseScore {
  const findings = reasoning?.findings ?? [];
  const actions = reasoning?.actions ?? [];
  const cache = new Map<string, Set<string>>();
  const score: CaseScore = {
    file,
    caseId: c.submission.caseId,
    covers: c.covers,
    expected: c.expected.findings.length,
    caught: 0,
    missed: [],
    severityDiffers: [],
    unexpectedHigh: [],
    notExpectedRaised: [],
    highFindings: 0,
    actionable: 0,
    notActionable: [],
    recommendationKindMatched: 0,
    alternativesNamed: 0,
    alternativesMatched: 0,
    error,
  };
  const explained = new Set<SafetyFinding>();
  for (const e of c.expected.findings) {
    const hits = hitsFor(kb, e, findings, cache);
    if (!hits.length) {
      score.missed.push({ kind: e.kind, drugs: e.drugs, severity: e.severity });
      continue;
    }
    score.caught++;
    hits.forEach((h) => explained.add(h));
    const top = hits.reduce((a, b) => (SEVERITY_RANK[b.severity] > SEVERITY_RANK[a.severity] ? b : a));
    if (top.severity !== e.severity)
      score.severityDiffers.push({ drugs: e.drugs, expected: e.severity, got: top.severity });
    const answering = hits.flatMap((h) => actionableFor(actions, h));
    if (kindMatches(e.recommendation, answering)) score.recommendationKindMatched++;
    if (e.acceptableAlternatives?.length) {
      score.alternativesNamed++;
      const offered = new Set(answering.flatMap((a) => a.alternatives.flatMap((x) => [...drugKeys(kb, x.name)])));
      if (e.acceptableAlternatives.some((alt) => intersects(drugKeys(kb, alt), offered))) score.alternativesMatched++;
    }
  }
  for (const f of findings) {
    if (SEVERITY_RANK[f.severity] < SEVERITY_RANK.high) continue;
    score.highFindings++;
    const answering = actionableFor(actions, f);
    if (answering.some((a) => a.actionable)) score.actionable++;
    else
      score.notActionable.push({
        summary: f.summary,
        why: answering.length
          ? (answering.find((a) => a.noAlternativeReason)?.noAlternativeReason ??
            'alternatives offered, but none passed every check (some could not be checked)')
          : 'no action was produced for this finding',
      });
    if (!explained.has(f)) score.unexpectedHigh.push({ kind: f.kind, severity: f.severity, summary: f.summary });
  }
  for (const n of c.expected.notExpected)
    for (const f of findings)
      if (hitsFor(kb, n, [f], cache).length)
        score.notExpectedRaised.push({ kind: f.kind, summary: f.summary, reason: n.reason });
  return score;
}

export interface EvalSummary {
  cases: number;
  expected: number;
  caught: number;
  caughtShare: number;
  unexpectedHigh: number;
  notExpectedRaised: number;
  highFindings: number;
  actionable: number;
  actionableShare: number;
  recommendationKindMatched: number;
  alternativesNamed: number;
  alternativesMatched: number;
  errors: number;
  goals: typeof GOALS;
  met: { caught: boolean; actionable: boolean };
  byTag: Record<string, { cases: number; expected: number; caught: number; highFindings: number; actionable: number }>;
}

const share = (a: number, b: number) => (b === 0 ? 1 : Math.round((a / b) * 1000) / 1000);

export function summarise(scores: readonly CaseScore[]): EvalSummary {
  const sum = (f: (s: CaseScore) => number) => scores.reduce((n, s) => n + f(s), 0);
  const byTag: EvalSummary['byTag'] = {};
  for (const s of scores)
    for (const t of s.covers) {
      const b = (byTag[t] ??= { cases: 0, expected: 0, caught: 0, highFindings: 0, actionable: 0 });
      b.cases++;
      b.expected += s.expected;
      b.caught += s.caught;
      b.highFindings += s.highFindings;
      b.actionable += s.actionable;
    }
  const expected = sum((s) => s.expected);
  const caught = sum((s) => s.caught);
  const high = sum((s) => s.highFindings);
  const actionable = sum((s) => s.actionable);
  return {
    cases: scores.length,
    expected,
    caught,
    caughtShare: share(caught, expected),
    unexpectedHigh: sum((s) => s.unexpectedHigh.length),
    notExpectedRaised: sum((s) => s.notExpectedRaised.length),
    highFindings: high,
    actionable,
    actionableShare: share(actionable, high),
    recommendationKindMatched: sum((s) => s.recommendationKindMatched),
    alternativesNamed: sum((s) => s.alternativesNamed),
    alternativesMatched: sum((s) => s.alternativesMatched),
    errors: scores.filter((s) => s.error).length,
    goals: GOALS,
    met: { caught: share(caught, expected) >= GOALS.caught, actionable: share(actionable, high) >= GOALS.actionable },
    byTag,
  };
}
