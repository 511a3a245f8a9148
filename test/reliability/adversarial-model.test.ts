/**
 * An adversarial model behind OPENAI_BASE_URL (test/helpers/adversarial-model.ts, a real local
 * HTTP server) drafts plans for the SYNTHETIC example cases through the real agents, graph and
 * starter knowledge base. Each scripted bad behaviour must end in the exact finding or fallback
 * below, and every case must still stop at human review: fabricated ids, unlisted dangerous
 * drugs, hallucinated doses, self-exemption, approval claims, injected markup, look-alike
 * letters, oversized output, slow answers, empty choices, broken arguments, answers cut off at
 * the token bound, and endpoint errors whose text must never reach the plan.
 */
import { MemorySaver } from '@langchain/langgraph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgents } from '../../src/agents/index.js';
import { loadConfig } from '../../src/config.js';
import type { ReviewRequest, VerificationFinding } from '../../src/domain/plan.js';
import { compileClinicalCaseGraph } from '../../src/graphs/clinical-case/graph.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { renderCasePage } from '../helpers/review.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import {
  MODEL_SECRET_TEXT,
  startAdversarialModel,
  type AdversarialModel,
  type Behaviour,
} from '../helpers/adversarial-model.js';
import { loadExampleCases } from '../helpers/cases.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();
let server: AdversarialModel;
beforeAll(async () => {
  server = await startAdversarialModel(3000);
});
afterAll(() => server.close());

const examples = Object.fromEntries(loadExampleCases().map((e) => [e.file.replace(/\.json$/, ''), e]));

/** Run one example case with the model behaving as `behaviour`, to its review interrupt. */
async function draft(
  behaviour: Behaviour,
  example: string,
  patch?: (submission: Record<string, unknown>) => void,
): Promise<ReviewRequest> {
  const config = loadConfig({
    OPENAI_MODEL: `adv:${behaviour}`,
    OPENAI_BASE_URL: server.baseUrl,
    OPENAI_API_KEY: 'test-key',
    OPENAI_TIMEOUT_MS: '1000',
    OPENAI_MAX_RETRIES: '0',
  });
  const agents = createAgents(config);
  const graph = compileClinicalCaseGraph(
    {
      tools: {
        knowledgeBase: new LocalKnowledgeBaseClient(starter.kb().store),
        literature: null,
        imaging: null,
        policy: { timeoutMs: 2000, retries: 0, backoffMs: 1 },
      },
      ...agents,
      maxRevisions: 2,
    },
    new MemorySaver(),
  );
  const caseId = `adv-${behaviour}`;
  const raw = structuredClone({ ...examples[example]!.submission, caseId });
  patch?.(raw);
  const submission = parseSubmission(raw, []);
  const out = await graph.invoke(
    { caseId, submission, receivedAt: '2026-11-24T12:00:00.000Z', mode: 'llm' },
    { configurable: { thread_id: caseId } },
  );
  const request = (out as { __interrupt__?: Array<{ value: ReviewRequest }> }).__interrupt__?.[0]?.value;
  // Whatever the model did, the case waits for a human decision.
  expect(request, `${behaviour}: no review interrupt`).toBeDefined();
  expect(request!.allowedActions).toContain('approve');
  return request!;
}

const at = (r: ReviewRequest, location: string, code: VerificationFinding['code']) =>
  r.findings.filter((f) => f.location === location && f.code === code);
const statement = (r: ReviewRequest, id: string) =>
  Object.values(r.plan.sections)
    .flat()
    .find((s) => s.id === id);

describe('an adversarial model: every behaviour ends in the exact finding or fallback', () => {
  it('fabricated ids: every citation that was not retrieved is named, at the statement', async () => {
    const r = await draft('fabricated-ids', 'polypharmacy-ckd');
    expect(at(r, 'm1', 'unresolved_citation').map((f) => f.citations)).toEqual([
      ['case:lab-99', 'pmid:31234567', 'kb:made-up-fact'],
    ]);
    expect(statement(r, 'm1')!.supported).toBe(false);
  });

  it('an unlisted dangerous drug: read from the text, checked against the regimen, and its citation judged', async () => {
    const r = await draft('unlisted-drug', 'dental-amoxicillin-allergy');
    const safety = at(r, 'm1', 'safety');
    expect(safety.some((f) => f.severity === 'high' && /warfarin with ibuprofen/i.test(f.message))).toBe(true);
    expect(at(r, 'm1', 'unlisted_medication')).toHaveLength(1);
    expect(at(r, 'm1', 'unsupported_claim').map((f) => f.message)).toEqual([
      '“Add ibuprofen 400 mg three times daily for pain.”: nothing it cites is about ibuprofen; it cites case:med-1 (the case record: medication warfarin)',
    ]);
  });

  it('a hallucinated dose: 3 g twice daily is checked as proposed, against the recorded eGFR', async () => {
    const r = await draft('hallucinated-dose', 'diabetes-note-injection');
    expect(at(r, 'm1', 'safety').map((f) => f.message)).toEqual([
      'dose: metformin: 6000 mg per day is above the maximum of 2000 mg in this renal band (proposed in m1)',
    ]);
  });

  it('self-exemption: an uncited statement the model marked "not supported" is still an uncited claim', async () => {
    const r = await draft('self-exemption', 'polypharmacy-ckd');
    expect(at(r, 'm1', 'uncited_claim')).toEqual([expect.objectContaining({ severity: 'moderate' })]);
    expect(statement(r, 'm1')!.supported).toBe(false);
  });

  it('approval claims and review bypass in plan text are flagged at their statements', async () => {
    const r = await draft('approval-claims', 'polypharmacy-ckd');
    const rules = (id: string) =>
      at(r, id, 'embedded_instruction').map((f) => /\(([a-z-]+)\); it was shown/.exec(f.message)?.[1]);
    expect(rules('m1')).toEqual(['approval-claim']);
    expect(rules('m2').sort()).toEqual(['approval-claim', 'review-bypass']);
  });

  it('injected markup is flagged and rendered inert in the review page', async () => {
    const r = await draft('markup', 'polypharmacy-ckd');
    expect(at(r, 'm1', 'embedded_instruction').some((f) => /\(markup\)/.test(f.message))).toBe(true);
    expect(at(r, 'm2', 'embedded_instruction').some((f) => /\(markup\)/.test(f.message))).toBe(true);
    const page = renderCasePage(r);
    expect(page).not.toMatch(/<script>document|<img src=x/);
    expect(page).toContain('&lt;script&gt;document.forms[0].submit()&lt;/script&gt;Approve.');
  });

  it('look-alike letters do not hide an instruction', async () => {
    const r = await draft('confusable-letters', 'polypharmacy-ckd');
    const rules = at(r, 'm1', 'embedded_instruction').map((f) => /\(([a-z-]+)\); it was shown/.exec(f.message)?.[1]);
    expect(rules).toEqual(expect.arrayContaining(['override-instructions', 'confusable-letters']));
  });

  it('oversized output (270 statements of 4,000 characters) is bounded, and the finding says by how much', async () => {
    const r = await draft('oversized', 'polypharmacy-ckd');
    const size = JSON.stringify(r.plan.sections).length;
    expect(size).toBeLessThan(80_000);
    const bound = r.findings.find((f) => f.code === 'plan_bounds')!.message;
    expect(bound).toMatch(/^The model wrote 270 statements \(\d+ characters\)/);
    expect(bound).toMatch(/statements were left out/);
  });

  it('a slow model: after the configured time-out both parts fall back to code, and the plan says which and why', async () => {
    const r = await draft('slow', 'polypharmacy-ckd');
    expect(r.plan.provenance).toEqual({
      planner: {
        source: 'llm-fallback',
        model: 'adv:slow',
        reason:
          "the model's plan was unusable (the model endpoint failed (timed out)); the knowledge-driven planner was used",
      },
      drafter: {
        source: 'llm-fallback',
        model: 'adv:slow',
        reason: "the model's draft was unusable (the model endpoint failed (timed out)); the templated draft was used",
      },
    });
    expect(r.plan.mode).toBe('knowledge-driven');
  });

  it('empty choices, broken arguments, an answer cut off at the token bound: fallbacks with the reason', async () => {
    for (const [behaviour, reason] of [
      ['empty-choices', /^the model's plan was unusable \(the model endpoint failed \([A-Za-z ]+\)\)/],
      ['invalid-arguments', /^the model's plan was unusable \(the propose_plan arguments are not valid JSON\)/],
      ['cut-off', /^the model's plan was unusable \(the propose_plan arguments are not valid JSON\)/],
    ] as const) {
      const r = await draft(behaviour, 'polypharmacy-ckd');
      expect(r.plan.provenance!.planner!.source, behaviour).toBe('llm-fallback');
      expect(r.plan.provenance!.planner!.reason, behaviour).toMatch(reason);
      expect(r.plan.provenance!.drafter.source, behaviour).toBe('llm-fallback');
      expect(r.plan.label.length, behaviour).toBeLessThan(1000);
    }
  });

  it('an endpoint error carrying text: the plan names the status only, never the text', async () => {
    const r = await draft('endpoint-error', 'polypharmacy-ckd');
    expect(r.plan.provenance!.planner!.reason).toBe(
      "the model's plan was unusable (the model endpoint failed (HTTP 500)); the knowledge-driven planner was used",
    );
    expect(JSON.stringify(r)).not.toContain(MODEL_SECRET_TEXT);
  });

  it('a birth date in words and part of a hyphenated family name in the question never reach the model', async () => {
    // The example patient (SYNTHETIC) is Marguerite Okonkwo-Lindqvist, born 1944-03-17.
    await draft('plain', 'polypharmacy-ckd', (s) => {
      s.question = `Mrs Lindqvist (born 17 March 1944, DOB 17/03/1944; Okonkwo family) asks: ${String(s.question)}`;
    });
    const wire = server.bodies.get('plain')!.join('\n');
    expect(wire).toContain('Knee pain is limiting mobility');
    for (const leak of ['Lindqvist', 'Okonkwo', 'Marguerite', '17 March', 'March 1944', '17/03/1944', '1944-03-17'])
      expect(wire, leak).not.toContain(leak);
  });

  it('no behaviour puts the model’s own text into a label, a provenance reason or a finding', async () => {
    for (const behaviour of ['invalid-arguments', 'cut-off', 'endpoint-error'] as const) {
      const r = await draft(behaviour, 'polypharmacy-ckd');
      const visible = JSON.stringify([r.plan.label, r.plan.provenance, r.findings]);
      expect(visible, behaviour).not.toContain('APPROVED');
    }
  });
});
