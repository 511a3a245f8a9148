/**
 * Every synthetic case, end to end through the knowledge-driven graph with the real knowledge
 * base (starter content) and test-double literature and imaging: the expected steps and the
 * expected findings for each.
 */
import { describe, expect, it } from 'vitest';
import { loadExampleCases } from '../helpers/cases.js';
import { runToReview } from '../helpers/graph-run.js';
import { useStarterKb } from '../helpers/kb.js';
import { fakeImaging, fakeLiterature, recordingKnowledgeBase, type Recorder } from '../helpers/tool-doubles.js';

interface Expected {
  steps: string[];
  findings: Array<{ code: string; severity: string; location?: string }>;
  medicationChange?: RegExp;
}

const lit = (n: number) => Array.from({ length: n }, (_, i) => `lit:${i + 1}`);
const medSafety = (n: number) =>
  Array.from({ length: n }, (_, i) => [`safety:allergy:med-${i + 1}`, `safety:dose:med-${i + 1}`]).flat();

const EXPECTED: Record<string, Expected> = {
  'polypharmacy-ckd.json': {
    steps: [
      'kb:lookup',
      'kb:contraindications',
      'kb:duplicates',
      'safety:interactions',
      'safety:older-adult',
      ...medSafety(4),
      ...lit(3),
      'care:reasoning',
    ],
    findings: [{ code: 'safety', severity: 'high' }],
    medicationChange: /HIGH interaction: warfarin with ibuprofen/,
  },
  'pneumonia-penicillin-allergy.json': {
    steps: ['kb:lookup', 'safety:imaging:img-1', ...lit(1)],
    findings: [],
  },
  'diabetes-note-injection.json': {
    steps: ['kb:lookup', 'kb:contraindications', ...medSafety(1), ...lit(1), 'care:reasoning'],
    findings: [{ code: 'embedded_instruction', severity: 'high', location: '/notes/1/text' }],
  },
  'renal-ckd4.json': {
    steps: [
      'kb:lookup',
      'kb:contraindications',
      'kb:duplicates',
      'safety:interactions',
      'safety:older-adult',
      ...medSafety(3),
      ...lit(3),
      'care:reasoning',
    ],
    // The starter content's renal dose bands: metformin contraindicated, gabapentin above the band's maximum.
    findings: [{ code: 'safety', severity: 'critical' }],
    medicationChange: /CRITICAL dose: metformin: contraindicated at this level of renal function/,
  },
  'dental-amoxicillin-allergy.json': {
    steps: [
      'kb:lookup',
      'kb:contraindications',
      'kb:duplicates',
      'safety:interactions',
      ...medSafety(2),
      ...lit(2),
      'care:reasoning',
    ],
    findings: [{ code: 'safety', severity: 'critical' }],
    medicationChange: /CRITICAL allergy: amoxicillin with a recorded allergy to penicillin/,
  },
};

describe('synthetic cases', () => {
  const examples = loadExampleCases();
  const starter = useStarterKb();

  it('has the five kinds of case the graph must handle', () => {
    expect(examples.map((e) => e.file).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(examples.map((e) => [e.file, e] as const))('%s: expected steps and findings', async (file, example) => {
    const expected = EXPECTED[file]!;
    const recorder: Recorder = { requests: [] };
    const { request, state } = await runToReview(example, {
      knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder),
      literature: fakeLiterature(recorder),
      imaging: fakeImaging(recorder),
    });

    expect(state.steps.map((s) => s.id).sort()).toEqual([...expected.steps].sort());
    expect(Object.values(state.results).every((r) => r.status === 'ok')).toBe(true);
    const significant = request.findings.filter((f) => f.code === 'safety' || f.code === 'embedded_instruction');
    for (const want of expected.findings)
      expect(significant).toEqual(expect.arrayContaining([expect.objectContaining(want)]));
    if (expected.findings.length === 0) expect(significant).toEqual([]);
    if (expected.medicationChange)
      expect(request.plan.sections.medicationChanges.map((r) => r.text).join('\n')).toMatch(expected.medicationChange);
    expect(request.findings.filter((f) => f.code === 'unresolved_citation')).toEqual([]);
  });
});
