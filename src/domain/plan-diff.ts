/**
 * Section-by-section difference between two plans: for the reviewer (what changed since the
 * previous revision) and for the record (what a reviewer's edit changed). Recommendations are
 * matched by text with a longest-common-subsequence per section; a removal directly followed by
 * an addition is reported as a change.
 */
import { z } from 'zod';
import { SECTION_NAMES, type PlanSections } from './plan.js';

export const DiffEntry = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('unchanged'), text: z.string() }),
  z.object({ kind: z.literal('added'), text: z.string(), citations: z.array(z.string()) }),
  z.object({ kind: z.literal('removed'), text: z.string() }),
  z.object({
    kind: z.literal('changed'),
    before: z.string(),
    after: z.string(),
    citationsBefore: z.array(z.string()),
    citationsAfter: z.array(z.string()),
  }),
]);
export type DiffEntry = z.infer<typeof DiffEntry>;

export const PlanDiff = z.object({
  sections: z.record(z.enum(SECTION_NAMES), z.array(DiffEntry)),
  added: z.number().int(),
  removed: z.number().int(),
  changed: z.number().int(),
});
export type PlanDiff = z.infer<typeof PlanDiff>;

type Rec = PlanSections[keyof PlanSections][number];

function diffSection(before: readonly Rec[], after: readonly Rec[]): DiffEntry[] {
  const n = before.length;
  const m = after.length;
  // lcs[i][j]: length of the LCS of before[i..] and after[j..].
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] =
        before[i]!.text === after[j]!.text ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const raw: Array<{ kind: 'unchanged' | 'added' | 'removed'; rec: Rec }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i]!.text === after[j]!.text) {
      raw.push({ kind: 'unchanged', rec: after[j]! });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) raw.push({ kind: 'added', rec: after[j++]! });
    else raw.push({ kind: 'removed', rec: before[i++]! });
  }
  // Within each run of removals and additions, pair them in order as changes.
  const out: DiffEntry[] = [];
  for (let k = 0; k < raw.length;) {
    if (raw[k]!.kind === 'unchanged') {
      out.push({ kind: 'unchanged', text: raw[k]!.rec.text });
      k++;
      continue;
    }
    const removed: Rec[] = [];
    const added: Rec[] = [];
    for (; k < raw.length && raw[k]!.kind !== 'unchanged'; k++)
      (raw[k]!.kind === 'removed' ? removed : added).push(raw[k]!.rec);
    const pairs = Math.min(removed.length, added.length);
    for (let p = 0; p < pairs; p++)
      out.push({
        kind: 'changed',
        before: removed[p]!.text,
        after: added[p]!.text,
        citationsBefore: removed[p]!.citations,
        citationsAfter: added[p]!.citations,
      });
    for (const r of removed.slice(pairs)) out.push({ kind: 'removed', text: r.text });
    for (const a of added.slice(pairs)) out.push({ kind: 'added', text: a.text, citations: a.citations });
  }
  return out;
}

export function diffPlans(before: PlanSections, after: PlanSections): PlanDiff {
  const sections = {} as PlanDiff['sections'];
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const name of SECTION_NAMES) {
    const entries = diffSection(before[name], after[name]);
    sections[name] = entries;
    for (const e of entries) {
      if (e.kind === 'added') added++;
      else if (e.kind === 'removed') removed++;
      else if (e.kind === 'changed') changed++;
    }
  }
  return { sections, added, removed, changed };
}
