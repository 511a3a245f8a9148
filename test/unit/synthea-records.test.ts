/**
 * The 40 shared Synthea records (SHARED_DATA_DIR/synthea, see its SOURCE.md; read in place,
 * never copied): each through intake, normalisation and the knowledge-driven graph in-process
 * with the starter knowledge base. The expectations come from an independent, plain reading of
 * each bundle, not from the code under test.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseCase } from '../../src/clinical/normalise.js';
import { MAX_KEY_RESULTS, MAX_OTHER_RESULTS } from '../../src/clinical/observations.js';
import { MinimisedCaseSchema } from '../../src/domain/minimised-case.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { runToReview } from '../helpers/graph-run.js';
import type { ExampleCase } from '../helpers/cases.js';
import { useStarterKb } from '../helpers/kb.js';

const DIR = path.resolve(import.meta.dirname, '../..', process.env.SHARED_DATA_DIR ?? '../shared/data', 'synthea');
const FILES = existsSync(DIR) ? readdirSync(DIR).filter((f) => /^synthea-\d+\.json$/.test(f)) : [];
const AT = new Date('2026-11-24T12:00:00.000Z');
const DAY_MS = 86_400_000;

interface Raw {
  resourceType: string;
  [k: string]: unknown;
}
type Coding = { system?: string; code?: string; display?: string };
const load = (file: string) =>
  JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as { entry: Array<{ resource: Raw }> };
const submissionOf = (file: string) =>
  ({
    caseId: `synthea-${file.replace(/\D/g, '')}`,
    question: 'Is the current medication list safe, and what needs monitoring?',
    priority: 'routine',
    bundle: load(file),
  }) as unknown as ExampleCase['submission'];

/** Independent reading: the RxNorm codes of MedicationRequests with status active and intent order. */
function activeRxNorm(bundle: ReturnType<typeof load>): string[] {
  return bundle.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'MedicationRequest' && r.status === 'active' && r.intent === 'order')
    .map((r) => (r.medicationCodeableConcept as { coding: Coding[] }).coding[0]!.code!)
    .sort();
}

/** Independent reading: for a LOINC code, the days before the case of its latest observation (or null). */
function latestDays(bundle: ReturnType<typeof load>, loinc: string): number | null {
  const times = bundle.entry
    .map((e) => e.resource)
    .filter(
      (r) =>
        r.resourceType === 'Observation' &&
        (r.code as { coding?: Coding[] }).coding?.some((c) => c.system === 'http://loinc.org' && c.code === loinc),
    )
    .map((r) => Date.parse(r.effectiveDateTime as string));
  return times.length ? Math.round((AT.getTime() - Math.max(...times)) / DAY_MS) : null;
}

/** Independent reading: every identifying string of the Patient (names with Synthea's digits, identifiers, address, telecom, birth date). */
function identifyingOf(bundle: ReturnType<typeof load>): string[] {
  const p = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource as {
    name?: Array<{ family?: string; given?: string[]; prefix?: string[] }>;
    identifier?: Array<{ value?: string }>;
    telecom?: Array<{ value?: string }>;
    address?: Array<{ line?: string[]; city?: string; postalCode?: string }>;
    birthDate?: string;
  };
  return [
    ...(p.name ?? []).flatMap((n) => [n.family, ...(n.given ?? [])]),
    ...(p.identifier ?? []).map((i) => i.value),
    ...(p.telecom ?? []).map((t) => t.value),
    ...(p.address ?? []).flatMap((a) => [...(a.line ?? []), a.city, a.postalCode]),
    p.birthDate,
  ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
}

// Key tests the view must lead with when the record has them (LOINC codes as the records code them).
const KEY_LOINC = ['38483-4', '33914-3', '2947-0', '6298-4', '4548-4', '718-7', '2093-3', '55284-4', '29463-7'];

describe.skipIf(FILES.length === 0)('the 40 shared Synthea records', () => {
  const { kb } = useStarterKb();

  it('are all present', () => {
    expect(FILES).toHaveLength(40);
  });

  it.each(FILES)('%s: normalised to a bounded, PHI-free view with the current medications and key results', (file) => {
    const raw = load(file);
    const { view } = normaliseCase(parseSubmission(submissionOf(file), []), AT);
    expect(MinimisedCaseSchema.parse(view)).toEqual(view);
    const json = JSON.stringify(view);

    // Bounded, whatever the length of the life in the record.
    expect(json.length).toBeLessThan(80_000);
    expect(view.labs.length).toBeLessThanOrEqual(MAX_KEY_RESULTS);
    expect(view.otherLabs.length).toBeLessThanOrEqual(MAX_OTHER_RESULTS);
    expect(view.counts.observations).toBe(raw.entry.filter((e) => e.resource.resourceType === 'Observation').length);
    expect(view.counts.resources.Encounter ?? 0).toBe(
      raw.entry.filter((e) => e.resource.resourceType === 'Encounter').length,
    );

    // Current medications: exactly those an independent reading finds, none unnamed.
    expect(view.medications.flatMap((m) => m.codes.map((c) => c.code)).sort()).toEqual(activeRxNorm(raw));
    for (const m of view.medications) expect(m.name).not.toMatch(/unnamed/);

    // Key results present, with the date of the latest observation of that code.
    for (const loinc of KEY_LOINC) {
      const days = latestDays(raw, loinc);
      const row = view.labs.find((l) => l.loinc === loinc);
      if (days === null) expect(row).toBeUndefined();
      else expect(row?.daysBeforeCase, `${file} ${loinc}`).toBe(days);
    }
    const bp = view.labs.find((l) => l.loinc === '55284-4');
    if (bp) expect(bp.components.map((c) => c.loinc).sort()).toEqual(['8462-4', '8480-6']);
    // No value is shown with more than 4 significant figures.
    const significant = (v: number) =>
      String(Math.abs(v)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
    for (const l of [...view.labs, ...view.otherLabs])
      for (const v of [l.value, ...l.components.map((c) => c.value)])
        if (v !== null) expect(significant(v), `${l.name} ${v}`).toBeLessThanOrEqual(4);
    // Never a fraction per day in words.
    for (const m of view.medications) expect(m.frequency ?? '').not.toMatch(/\d\.\d+\s*\/\s*day/);

    // PHI: no name, identifier, address, telecom, birth date or exact date.
    const lower = json.toLowerCase();
    for (const s of identifyingOf(raw)) expect(lower, `${file} leaks ${s}`).not.toContain(s.toLowerCase());
    expect(json).not.toMatch(/\b\d{4}-\d{2}-\d{2}/);
    expect(json).not.toMatch(/urn:uuid/);
  });

  it('figures over all 40 records', () => {
    const figures = FILES.map((file) => {
      const { view } = normaliseCase(parseSubmission(submissionOf(file), []), AT);
      return { meds: view.medications.length, key: view.labs.length, size: JSON.stringify(view).length };
    });
    const total = figures.reduce((n, f) => n + f.meds, 0);
    const expected = FILES.reduce((n, f) => n + activeRxNorm(load(f)).length, 0);
    expect(total).toBe(expected);
    console.info(
      `Synthea: ${total} current medications; key results per record ${Math.min(...figures.map((f) => f.key))}–${Math.max(...figures.map((f) => f.key))}; view ${Math.min(...figures.map((f) => f.size))}–${Math.max(...figures.map((f) => f.size))} characters`,
    );
  });

  it.each(FILES)('%s: runs through the graph to review without failing a step', async (file) => {
    const { request, state } = await runToReview(
      { file, description: 'Synthea record', submission: submissionOf(file) },
      { knowledgeBase: new LocalKnowledgeBaseClient(kb().store), literature: null, imaging: null },
    );
    const kbSteps = state.steps.filter((s) => s.type !== 'literature_search' && s.type !== 'imaging_analysis');
    expect(kbSteps.every((s) => state.results[s.id]?.status === 'ok')).toBe(true);
    // One finding per unknown term, never repeated per check kind.
    const unknown = request.findings.filter((f) => f.code === 'unknown_term').map((f) => f.message);
    expect(new Set(unknown).size).toBe(unknown.length);
    expect(request.findings.filter((f) => f.code === 'unresolved_citation')).toEqual([]);
    const assessment = request.plan.sections.assessment.map((r) => r.text).join('\n');
    expect(assessment).not.toMatch(/\d\.\d{5,}/);
    if (state.view!.labs.length) expect(assessment).toMatch(/Key results \(latest per test\)/);
  });
});
