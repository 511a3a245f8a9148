/**
 * @langchain/openai (ChatOpenAI) against a local OpenAI-compatible server over real sockets:
 * tool calling and structured output for planning and drafting, what goes over the wire, and
 * what happens when the endpoint fails.
 */
import { MemorySaver } from '@langchain/langgraph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llmDrafter } from '../../src/agents/llm-drafter.js';
import { llmPlanner } from '../../src/agents/llm-planner.js';
import { createChatModel } from '../../src/agents/models.js';
import { loadConfig } from '../../src/config.js';
import type { ReviewRequest } from '../../src/domain/plan.js';
import { compileClinicalCaseGraph } from '../../src/graphs/clinical-case/graph.js';
import type { ClinicalCaseStateValue } from '../../src/graphs/clinical-case/state.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { identifiersOf, loadExampleCases } from '../helpers/cases.js';
import { startOpenAiFixture, type OpenAiFixture } from '../helpers/openai-fixture.js';
import { useStarterKb } from '../helpers/kb.js';
import { recordingKnowledgeBase, type Recorder } from '../helpers/tool-doubles.js';

let fixture: OpenAiFixture;
// The real knowledge base with the starter content (SQLite), opened once for the file.
const starter = useStarterKb();

beforeAll(async () => {
  fixture = await startOpenAiFixture((body) => {
    const tool = body.tools?.[0]?.function.name;
    if (tool === 'propose_plan')
      return {
        name: 'propose_plan',
        args: {
          steps: [
            { id: 'lookup', type: 'kb_lookup', purpose: 'Map the medications', terms: ['warfarin', 'ibuprofen'] },
          ],
        },
      };
    return {
      name: 'write_plan',
      args: {
        assessment: [
          {
            id: 'a1',
            text: 'On warfarin and ibuprofen.',
            citations: ['case:med-1', 'case:med-2'],
            medications: ['warfarin', 'ibuprofen'],
          },
        ],
        recommendations: [],
        medicationChanges: [
          {
            id: 'c1',
            text: 'Review the combination (interaction flagged).',
            // The starter content's interaction fact for warfarin (an anticoagulant) with ibuprofen (an NSAID).
            citations: ['kb:ix:class:anticoagulants~class:nsaids'],
            medications: ['warfarin', 'ibuprofen'],
          },
        ],
        monitoring: [],
        patientCommunication: [],
      },
    };
  });
});
afterAll(() => fixture.close());

function graphFor(recorder: Recorder) {
  const config = loadConfig({
    OPENAI_MODEL: 'fixture-model',
    OPENAI_BASE_URL: fixture.baseUrl,
    OPENAI_API_KEY: 'test-key',
    OPENAI_TIMEOUT_MS: '5000',
    OPENAI_MAX_RETRIES: '0',
  });
  if (config.model.mode !== 'llm') throw new Error('expected LLM mode');
  const model = createChatModel(config.model);
  return compileClinicalCaseGraph(
    {
      tools: {
        knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder),
        literature: null,
        imaging: null,
        policy: { timeoutMs: 500, retries: 0, backoffMs: 1 },
      },
      planner: llmPlanner(model),
      drafter: llmDrafter(model, 'fixture-model'),
      maxRevisions: 2,
    },
    new MemorySaver(),
  );
}

const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;

async function runCase(id: string) {
  const graph = graphFor({ requests: [] });
  const submission = parseSubmission({ ...example.submission, caseId: id }, []);
  const config = { configurable: { thread_id: id } };
  const out = await graph.invoke(
    { caseId: id, submission, receivedAt: '2026-11-24T12:00:00.000Z', mode: 'llm' },
    config,
  );
  return {
    request: (out as { __interrupt__?: Array<{ value: ReviewRequest }> }).__interrupt__![0]!.value,
    state: (await graph.getState(config)).values as ClinicalCaseStateValue,
  };
}

describe('ChatOpenAI over HTTP', () => {
  it('plans and drafts through tool calls, validated, with nothing identifying on the wire', async () => {
    const before = fixture.requests.length;
    const { request, state } = await runCase('http-1');
    const sent = fixture.requests.slice(before);
    expect(sent.map((b) => b.tools?.map((t) => t.function.name))).toEqual([['propose_plan'], ['write_plan']]);
    expect(sent.every((b) => b.model === 'fixture-model')).toBe(true);
    expect(sent[0]!.tool_choice).toEqual({ type: 'function', function: { name: 'propose_plan' } });
    expect(state.planning!.planner).toBe('llm');
    expect(request.plan.mode).toBe('llm');
    expect(request.plan.sections.medicationChanges[0]).toMatchObject({ id: 'c1', supported: true });
    const wire = JSON.stringify(sent);
    for (const id of identifiersOf(example.submission)) expect(wire, `${id} went over the wire`).not.toContain(id);
  });

  it('when the endpoint keeps failing, planning and drafting fall back to knowledge-driven mode, labelled', async () => {
    fixture.failNext = 100;
    try {
      const { request, state } = await runCase('http-2');
      expect(state.planning).toMatchObject({ planner: 'llm-fallback' });
      expect(state.planning!.note).toMatch(/model endpoint failed/);
      expect(request.plan.mode).toBe('knowledge-driven');
      expect(request.plan.label).toMatch(/The model's draft was unusable: the model endpoint failed/);
    } finally {
      fixture.failNext = 0;
    }
  });
});
