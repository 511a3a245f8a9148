/**
 * Care-plan reasoning end to end through the knowledge-driven graph (real starter knowledge
 * base, test-double literature and imaging): the plan carries the checked alternatives and dose
 * adjustments with their "why" chains, every citation (statement and chain) resolves to evidence
 * retrieved in the case, and patient communication follows the submission's language. The cases
 * are the SYNTHETIC examples in examples/cases.
 */
import { describe, expect, it } from 'vitest';
import { loadExampleCases } from '../helpers/cases.js';
import { runToReview } from '../helpers/graph-run.js';
import { evidenceForPrompt } from '../../src/agents/llm-drafter.js';
import { useStarterKb } from '../helpers/kb.js';
import { fakeImaging, fakeLiterature, recordingKnowledgeBase, type Recorder } from '../helpers/tool-doubles.js';

const starter = useStarterKb();
const example = (file: string) => loadExampleCases().find((e) => e.file === file)!;
const tools = () => {
  const recorder: Recorder = { requests: [] };
  return {
    recorder,
    tools: {
      knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder),
      literature: fakeLiterature(recorder),
      imaging: fakeImaging(recorder),
    },
  };
};

describe('care plan in the graph', () => {
  it('dental case: a checked alternative with its why, every citation resolved, English patient wording', async () => {
    const { tools: t, recorder } = tools();
    const { request, state } = await runToReview(example('dental-amoxicillin-allergy.json'), t);
    expect(recorder.requests.filter((r) => r.tool === 'kb.reason')).toHaveLength(1);
    const change = request.plan.sections.medicationChanges.find((r) => r.text.startsWith('CHANGE amoxicillin'))!;
    expect(change.text).toMatch(/Consider Azithromycin, or Clindamycin/);
    expect(change.medications).toEqual(expect.arrayContaining(['amoxicillin', 'Azithromycin', 'Clindamycin']));
    expect(change.why.map((w) => w.text)).toEqual(
      expect.arrayContaining([
        'amoxicillin with a recorded allergy to penicillin',
        expect.stringMatching(/^amoxicillin is used here for Dental abscess/),
        expect.stringMatching(/^Azithromycin: Re-checked for this patient in place of amoxicillin/),
      ]),
    );
    const known = new Set(request.evidence.map((e) => e.id));
    for (const r of Object.values(request.plan.sections).flat())
      for (const c of [...r.citations, ...r.why.flatMap((w) => w.citations)].filter((x) => x.startsWith('kb:')))
        expect(known.has(c), c).toBe(true);
    expect(request.findings.filter((f) => f.code === 'unresolved_citation')).toEqual([]);
    expect(request.plan.language).toBe('en');
    expect(request.plan.sections.patientCommunication[0]!.text).toMatch(/^Your record shows an allergy/);
    expect(request.plan.sections.monitoring.map((r) => r.text)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Monitor INR \(warfarin\)/)]),
    );
    expect(state.results['care:reasoning']!.reasoning!.actions[0]!.actionable).toBe(true);
  });

  it('in LLM mode the same reasoning is offered to the model as evidence, with the patient language', async () => {
    const { state } = await runToReview(example('dental-amoxicillin-allergy.json'), tools().tools);
    const prompt = evidenceForPrompt({
      view: state.view!,
      steps: state.steps,
      results: state.results,
      revision: 1,
      reviewerComments: [],
      language: 'zh-CN',
    });
    expect(prompt.patientLanguage).toBe('zh-CN');
    const change = prompt.reasoning!.actions.find((a) => a.medication === 'amoxicillin')!;
    expect(change.alternatives.map((x) => x.name)).toEqual(expect.arrayContaining(['Azithromycin', 'Clindamycin']));
    expect(change.ruledOut.map((x) => x.name)).toContain('Metronidazole');
    const known = new Set(prompt.evidence.map((e) => e.id));
    for (const c of [...change.cite, ...change.alternatives.flatMap((x) => x.cite)]) expect(known.has(c), c).toBe(true);
  });

  it('a submission in zh-CN gets its patient communication in Simplified Chinese', async () => {
    const base = example('dental-amoxicillin-allergy.json');
    const zh = { ...base, submission: { ...base.submission, caseId: 'syn-dental-zh', language: 'zh-CN' as const } };
    const { request } = await runToReview(zh, tools().tools);
    expect(request.plan.language).toBe('zh-CN');
    expect(request.plan.sections.patientCommunication[0]!.text).toMatch(
      /^您的记录显示您有过敏史，因此阿莫西林对您不安全。我们建议改用阿奇霉素或克林霉素/,
    );
  });

  it('renal case: the dose adjustment is written as an order, with the renal basis', async () => {
    const { request } = await runToReview(example('renal-ckd4.json'), tools().tools);
    const dose = request.plan.sections.medicationChanges.find((r) => r.text.startsWith('DOSE gabapentin'))!;
    expect(dose.text).toMatch(
      /Suggested order, keeping the strength already prescribed: gabapentin 600 mg orally once daily/,
    );
    expect(dose.text).toMatch(/reported eGFR 24 mL\/min\/1.73 m²/);
    expect(dose.why.some((w) => /^Renal function the band was read on/.test(w.text))).toBe(true);
  });

  it('with the knowledge base down the reasoning step is reported unavailable, and the draft still lists the checks', async () => {
    const recorder: Recorder = { requests: [] };
    const { request } = await runToReview(example('dental-amoxicillin-allergy.json'), {
      knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder, { fail: 'down' }),
      literature: fakeLiterature(recorder),
      imaging: fakeImaging(recorder),
    });
    expect(request.plan.unavailable.map((u) => u.type)).toContain('care_reasoning');
    expect(request.plan.sections.medicationChanges.some((r) => r.text.startsWith('CHANGE'))).toBe(false);
  });
});
