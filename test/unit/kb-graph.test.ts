/**
 * The graph with the real knowledge base (starter content, SQLite): every synthetic case gets
 * its safety findings from KB facts, and every KB citation in the plan resolves to a fact
 * retrieved in the case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { loadExampleCases } from '../helpers/cases.js';
import { runToReview } from '../helpers/graph-run.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { fakeImaging, fakeLiterature, type Recorder } from '../helpers/tool-doubles.js';

const EXPECTED: Record<string, Array<{ severity: string; text: RegExp; fact: string }>> = {
  'polypharmacy-ckd.json': [
    { severity: 'high', text: /warfarin with ibuprofen/, fact: 'kb:ix:class:anticoagulants~class:nsaids' },
    {
      severity: 'high',
      text: /lisinopril with spironolactone/,
      fact: 'kb:ix:class:ace-inhibitors~class:potassium-sparing-diuretics',
    },
    { severity: 'moderate', text: /ibuprofen in Chronic kidney disease/, fact: 'kb:ci:class:nsaids~cond:ckd' },
  ],
  'renal-ckd4.json': [
    {
      severity: 'critical',
      text: /metformin: contraindicated at this level of renal function/,
      fact: 'kb:dose:drug:metformin:oral:day:age18-:egfr-30',
    },
    {
      severity: 'critical',
      text: /gabapentin: 1800 mg per day is above the maximum of 700 mg/,
      fact: 'kb:dose:drug:gabapentin:oral:day:age18-:crcl15-30',
    },
  ],
  'dental-amoxicillin-allergy.json': [
    {
      severity: 'critical',
      text: /amoxicillin with a recorded allergy to penicillin/,
      fact: 'kb:xr:allergen:penicillin~class:penicillins',
    },
  ],
  'diabetes-note-injection.json': [],
  'pneumonia-penicillin-allergy.json': [],
};

let kb: TestKb;
beforeAll(async () => {
  kb = await openTestKb('sqlite');
});
afterAll(() => kb.drop());

describe('clinical-case graph with the real knowledge base', () => {
  it.each(loadExampleCases().map((e) => [e.file, e] as const))('%s', async (file, example) => {
    const recorder: Recorder = { requests: [] };
    const { request, state } = await runToReview(example, {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature: fakeLiterature(recorder),
      imaging: fakeImaging(recorder),
    });

    expect(
      Object.values(state.results).every((r) => r.status === 'ok'),
      file,
    ).toBe(true);
    const safety = request.findings.filter((f) => f.code === 'safety');
    const changes = request.plan.sections.medicationChanges;
    for (const want of EXPECTED[file]!) {
      expect(
        safety.map((f) => `${f.severity} ${f.message}`),
        file,
      ).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${want.severity} .*${want.text.source}`))]));
      const rec = changes.find((r) => want.text.test(r.text));
      expect(rec?.citations, `${file}: ${want.text.source}`).toContain(want.fact);
    }
    if (!EXPECTED[file]!.length) expect(safety).toEqual([]);
    // Every KB citation points at evidence retrieved in this case, with its source.
    const evidence = new Map(request.evidence.map((e) => [e.id, e]));
    for (const r of Object.values(request.plan.sections).flat()) {
      for (const c of r.citations.filter((x) => x.startsWith('kb:')))
        expect(evidence.get(c)?.source, `${file} cites ${c}`).toBeTruthy();
    }
    expect(request.findings.filter((f) => f.code === 'unresolved_citation' || f.code === 'uncited_claim')).toEqual([]);
  });
});
