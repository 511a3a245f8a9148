/**
 * The clinical-case graph end to end in knowledge-driven mode: decomposition into steps with
 * the mandatory safety steps, parallel tool calls, templated drafting with citations,
 * verification, the review interrupt, and the resume paths.
 */
import { Command, MemorySaver } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { knowledgePlanner, templateDrafter } from '../../src/agents/knowledge-mode.js';
import { KNOWLEDGE_DRIVEN_LABEL } from '../../src/agents/template-drafter.js';
import { compileClinicalCaseGraph } from '../../src/graphs/clinical-case/graph.js';
import { SECTION_NAMES, type ReviewRequest } from '../../src/domain/plan.js';
import type { GraphDeps } from '../../src/graphs/clinical-case/deps.js';
import type { ClinicalCaseStateValue } from '../../src/graphs/clinical-case/state.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { identifiersOf, loadExampleCases } from '../helpers/cases.js';
import { useStarterKb } from '../helpers/kb.js';
import { fakeImaging, fakeLiterature, recordingKnowledgeBase, type Recorder } from '../helpers/tool-doubles.js';

const examples = Object.fromEntries(loadExampleCases().map((e) => [e.file.replace('.json', ''), e]));
const RECEIVED = '2026-11-24T12:00:00.000Z';
// The real knowledge base with the starter content (SQLite), opened once for the file.
const starter = useStarterKb();
/** The starter content's interaction fact that applies to warfarin with ibuprofen. */
const WARFARIN_NSAID = 'kb:ix:class:anticoagulants~class:nsaids';

function setup(overrides: Partial<GraphDeps['tools']> = {}, maxRevisions = 2) {
  const recorder: Recorder = { requests: [] };
  const deps: GraphDeps = {
    tools: {
      knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder),
      literature: fakeLiterature(recorder),
      imaging: fakeImaging(recorder),
      policy: { timeoutMs: 200, retries: 1, backoffMs: 10 },
      ...overrides,
    },
    planner: knowledgePlanner,
    drafter: templateDrafter,
    maxRevisions,
  };
  const graph = compileClinicalCaseGraph(deps, new MemorySaver());
  return { graph, recorder };
}

async function start(graph: ReturnType<typeof setup>['graph'], name: string) {
  const example = examples[name]!;
  const submission = parseSubmission(example.submission, []);
  const config = { configurable: { thread_id: submission.caseId } };
  const out = await graph.invoke(
    { caseId: submission.caseId, submission, receivedAt: RECEIVED, mode: 'knowledge-driven' },
    config,
  );
  return { out, config, submission, example };
}

const valuesOf = async (graph: ReturnType<typeof setup>['graph'], config: object) =>
  (await graph.getState(config)).values as ClinicalCaseStateValue;
const interruptOf = (out: object) =>
  (out as { __interrupt__?: Array<{ value: unknown }> }).__interrupt__?.[0]?.value as ReviewRequest;
const decide = (revision: number, extra: Record<string, unknown>) => ({
  revision,
  reviewer: 'dr-test',
  decidedAt: new Date().toISOString(),
  ...extra,
});

describe('clinical-case graph (knowledge-driven)', () => {
  it('plans the polypharmacy case with every mandatory safety step and pauses for review', async () => {
    const { graph } = setup();
    const { out, config } = await start(graph, 'polypharmacy-ckd');
    const request = interruptOf(out);
    expect(request).toBeDefined();
    const state = await valuesOf(graph, config);
    const ids = state.steps.map((s) => s.id).sort();
    expect(ids).toEqual(
      [
        'care:reasoning',
        'kb:contraindications',
        'kb:duplicates',
        'kb:lookup',
        'lit:1',
        'lit:2',
        'lit:3',
        'safety:allergy:med-1',
        'safety:allergy:med-2',
        'safety:allergy:med-3',
        'safety:allergy:med-4',
        'safety:dose:med-1',
        'safety:dose:med-2',
        'safety:dose:med-3',
        'safety:dose:med-4',
        'safety:interactions',
        'safety:older-adult',
      ].sort(),
    );
    // Literature waits for the lookup; everything ran and recorded provenance.
    expect(state.steps.find((s) => s.id === 'lit:1')!.dependsOn).toEqual(['kb:lookup']);
    for (const id of ids) {
      expect(state.results[id]!.provenance.source).toMatch(/knowledge-base|literature/);
      expect(state.results[id]!.status).toBe('ok');
    }
    expect(request.plan.label).toBe(KNOWLEDGE_DRIVEN_LABEL);
    expect(request.allowedActions).toEqual(['approve', 'edit', 'request_changes', 'reject']);
    // The knowledge base's interaction fact (anticoagulants with NSAIDs) fired and is cited by fact id.
    const change = request.plan.sections.medicationChanges.find((r) => r.citations.includes(WARFARIN_NSAID));
    expect(change?.text).toMatch(/warfarin with ibuprofen/);
    expect(request.evidence.map((e) => e.id)).toContain(WARFARIN_NSAID);
    // Every recommendation cites evidence that resolves.
    for (const section of SECTION_NAMES)
      for (const r of request.plan.sections[section]) expect(r.supported, r.text).toBe(true);
    expect(request.findings.filter((f) => f.code === 'unresolved_citation')).toEqual([]);
    expect(state.status).toBe('drafting');
    expect(state.submission).toBeNull();
  });

  it('adds an imaging step for the study and an allergy step per medication', async () => {
    const { graph, recorder } = setup();
    const { out, config } = await start(graph, 'pneumonia-penicillin-allergy');
    const steps = (await valuesOf(graph, config)).steps;
    expect(steps.find((s) => s.id === 'safety:imaging:img-1')?.mandatory).toBe(true);
    expect(recorder.requests.filter((r) => r.tool === 'imaging.analyse')).toHaveLength(1);
    const request = interruptOf(out);
    expect(request.plan.sections.recommendations.some((r) => r.citations.includes('img:img-1:f1'))).toBe(true);
  });

  it('flags the injected instruction and never follows it', async () => {
    const { graph } = setup();
    const { out } = await start(graph, 'diabetes-note-injection');
    const request = interruptOf(out);
    const flagged = request.findings.filter((f) => f.code === 'embedded_instruction');
    // The submission note comes after the DocumentReference note in the view.
    expect(flagged.map((f) => f.location)).toContain('/notes/1/text');
    expect(flagged.every((f) => f.severity === 'high')).toBe(true);
    // The case is still waiting for a human: nothing approved it.
    expect(request.allowedActions).toContain('approve');
  });

  it('keeps every identifier of the bundle out of every tool request', async () => {
    for (const name of Object.keys(examples)) {
      const { graph, recorder } = setup();
      const { example, submission } = await start(graph, name);
      const outbound = JSON.stringify(recorder.requests);
      expect(recorder.requests.length).toBeGreaterThan(0);
      const ids = [
        ...identifiersOf(example.submission),
        ...submission.bundle.entry
          .flatMap((e) => [e.fullUrl, 'id' in e.resource ? e.resource.id : undefined])
          .filter((x): x is string => !!x && x.length > 2),
      ];
      for (const id of ids) expect(outbound, `${name}: ${id} left the process`).not.toContain(id);
      expect(outbound).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    }
  });

  it('shows unavailable tools in the plan and in the findings instead of failing the case', async () => {
    const recorder: Recorder = { requests: [] };
    const { graph } = setup({
      knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder, { fail: 'timeout' }),
      literature: null,
    });
    const { out } = await start(graph, 'polypharmacy-ckd');
    const request = interruptOf(out);
    expect(request.plan.unavailable.length).toBeGreaterThan(10);
    expect(request.plan.sections.recommendations.filter((r) => r.text.startsWith('NOT CHECKED')).length).toBe(
      request.plan.unavailable.length,
    );
    expect(request.findings.some((f) => f.code === 'kb_unavailable' && f.severity === 'high')).toBe(true);
    expect(request.findings.some((f) => f.code === 'tool_unavailable' && /not configured/.test(f.message))).toBe(true);
    // The timeout was retried within the policy (2 attempts).
    const timedOut = recorder.requests.filter((r) => r.tool === 'kb.check.interaction');
    expect(timedOut.length).toBeGreaterThanOrEqual(2);
  });

  it('approve finalizes the case', async () => {
    const { graph } = setup();
    const { config } = await start(graph, 'polypharmacy-ckd');
    const done = await graph.invoke(new Command({ resume: decide(1, { action: 'approve' }) }), config);
    expect(done.status).toBe('approved');
    expect(done.decisions).toHaveLength(1);
    expect((done as { __interrupt__?: unknown }).__interrupt__).toBeUndefined();
  });

  it('request_changes revises with the comments and asks for review again; reject closes with the reason', async () => {
    const { graph } = setup();
    const { config } = await start(graph, 'polypharmacy-ckd');
    const second = await graph.invoke(
      new Command({
        resume: decide(1, { action: 'request_changes', comments: 'Please address the potassium result explicitly.' }),
      }),
      config,
    );
    const request = interruptOf(second);
    expect(request.revision).toBe(2);
    expect(request.plan.revision).toBe(2);
    const comment = request.plan.sections.assessment.find((r) => r.citations.includes('review:r1'));
    expect(comment?.text).toContain('potassium');
    expect(comment?.supported).toBe(true);
    const closed = await graph.invoke(
      new Command({ resume: decide(2, { action: 'reject', reason: 'Not appropriate for this patient.' }) }),
      config,
    );
    expect(closed).toMatchObject({ status: 'rejected', closedReason: 'Not appropriate for this patient.' });
  });

  it('edit keeps the drafted plan and the author, re-verifies the edit and finalizes', async () => {
    const { graph } = setup();
    const { out, config } = await start(graph, 'polypharmacy-ckd');
    const request = interruptOf(out);
    const sections = structuredClone(request.plan.sections);
    sections.recommendations.push({
      id: 'h1',
      text: 'Stop ibuprofen; use paracetamol instead.',
      support: null,
      why: [],
      citations: ['pmid:123456789'],
      medications: ['paracetamol'],
      supported: true,
    });
    const done = await graph.invoke(new Command({ resume: decide(1, { action: 'edit', sections }) }), config);
    expect(done.status).toBe('approved');
    // The edited plan is the next revision, with the draft as its previous one.
    expect([done.revision, done.plan!.revision, done.previousPlan!.revision]).toEqual([2, 2, 1]);
    expect(done.humanEdits).toHaveLength(1);
    expect(done.humanEdits[0]!.reviewer).toBe('dr-test');
    expect(done.plan!.label).toMatch(/Edited by dr-test/);
    // The edit cited evidence that was never retrieved: flagged and marked unsupported.
    const edited = done.plan!.sections.recommendations.find((r: { id: string }) => r.id === 'h1');
    expect(edited!.supported).toBe(false);
    expect(done.findings.some((f) => f.code === 'unresolved_citation' && f.location === 'h1')).toBe(true);
  });

  it('an edit that leaves a critical finding comes back for review as the next revision', async () => {
    const { graph } = setup();
    const { out, config } = await start(graph, 'dental-amoxicillin-allergy');
    const request = interruptOf(out);
    expect(request.findings.some((f) => f.severity === 'critical')).toBe(true);
    const sections = structuredClone(request.plan.sections);
    sections.assessment[0]!.text = 'Edited assessment.';
    const again = await graph.invoke(new Command({ resume: decide(1, { action: 'edit', sections }) }), config);
    const second = interruptOf(again);
    expect(second.revision).toBe(2);
    expect(second.plan.sections.assessment[0]!.text).toBe('Edited assessment.');
    expect(second.previousPlan?.revision).toBe(1);
    expect((await graph.getState(config)).next).toEqual(['review']);
    // A decision for the old revision is refused; one for the new revision closes the case.
    const stale = await graph.invoke(new Command({ resume: decide(1, { action: 'approve' }) }), config);
    expect(interruptOf(stale).revision).toBe(2);
    const done = await graph.invoke(new Command({ resume: decide(2, { action: 'approve' }) }), config);
    expect(done).toMatchObject({ status: 'approved', revision: 2 });
  });

  it('escalates when revisions run out', async () => {
    const { graph } = setup({}, 1);
    const { config } = await start(graph, 'diabetes-note-injection');
    await graph.invoke(
      new Command({ resume: decide(1, { action: 'request_changes', comments: 'more detail' }) }),
      config,
    );
    const done = await graph.invoke(
      new Command({ resume: decide(2, { action: 'request_changes', comments: 'still not enough' }) }),
      config,
    );
    expect(done.status).toBe('escalated');
    expect(done.closedReason).toMatch(/escalated/);
  });

  it('refuses a decision for the wrong revision or of the wrong shape, asks again, and still accepts a valid one', async () => {
    const { graph } = setup();
    const { config } = await start(graph, 'diabetes-note-injection');
    const stale = await graph.invoke(new Command({ resume: decide(7, { action: 'approve' }) }), config);
    expect(interruptOf(stale).revision).toBe(1);
    const malformed = await graph.invoke(new Command({ resume: { action: 'approve' } }), config);
    expect(interruptOf(malformed).revision).toBe(1);
    expect((await graph.getState(config)).next).toEqual(['review']);
    const state = await valuesOf(graph, config);
    expect(state.refusedDecisions.map((r) => r.reason)).toEqual([
      'decision is for revision 7, but the case is at revision 1',
      expect.stringMatching(/^invalid decision: revision: /),
    ]);
    expect(state.decisions).toEqual([]);
    const done = await graph.invoke(new Command({ resume: decide(1, { action: 'approve' }) }), config);
    expect(done.status).toBe('approved');
  });
});
