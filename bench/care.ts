/**
 * `npm run bench:care`: the cost of care-plan reasoning in drafting. JSON on stdout, progress on
 * stderr. A SYNTHETIC 20-drug case (bench/medication-list.ts, with problems and an allergy) goes
 * through normalisation and every step once; then drafting is timed, in the same run, with the
 * reasoning off (the template over the check results only) and on (reasoning over the starter
 * knowledge base, then the template with its result): per case p50/p99, and the p99 the
 * reasoning adds. Target: at most 5 ms added at p99. Environment: BENCH_CARE_ITERATIONS (2000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { templateDraft } from '../src/agents/template-drafter.js';
import { knowledgeDrivenPlan } from '../src/agents/knowledge-planner.js';
import { normaliseCase } from '../src/clinical/normalise.js';
import { CareReasoningInput } from '../src/domain/care-reasoning.js';
import type { DraftInput } from '../src/domain/agents.js';
import type { StepResult } from '../src/domain/steps.js';
import { executeStep } from '../src/graphs/clinical-case/executor.js';
import { mergeMandatory } from '../src/graphs/clinical-case/steps.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import { reasonCarePlan } from '../src/knowledge/reasoning.js';
import { LocalKnowledgeBaseClient } from '../src/tools/knowledge-base/client.js';
import { twentyDrugCase } from './medication-list.js';

const ITERATIONS = Number(process.env.BENCH_CARE_ITERATIONS ?? 2000);
const progress = (m: string) => process.stderr.write(`[bench:care] ${m}\n`);
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'care-bench-'));
  const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'kb.sqlite') });
  try {
    const kb = await store.snapshot();
    const tools = { knowledgeBase: new LocalKnowledgeBaseClient(store), literature: null, imaging: null };
    const { view } = normaliseCase(twentyDrugCase(), new Date('2026-12-01T09:00:00Z'));
    const { steps } = mergeMandatory(knowledgeDrivenPlan(view), view);
    const results: Record<string, StepResult> = {};
    for (const s of steps) results[s.id] = await executeStep(s, view, tools);
    const care = steps.find((s) => s.type === 'care_reasoning')!;
    const reasoningInput = CareReasoningInput.parse(
      results[care.id]!.reasoning ? recordedInput(view) : recordedInput(view),
    );
    const off: DraftInput = {
      view,
      steps: steps.filter((s) => s !== care),
      results: Object.fromEntries(Object.entries(results).filter(([id]) => id !== care.id)),
      revision: 1,
      reviewerComments: [],
      language: 'en',
    };
    const once = reasonCarePlan(kb, reasoningInput);
    progress(
      `${view.medications.length} drugs, ${once.findings.length} findings, ${once.actions.length} actions (${once.actions.filter((a) => a.actionable).length} actionable), ${ITERATIONS} iterations`,
    );
    const time = (fn: () => unknown) => {
      const t = performance.now();
      fn();
      return performance.now() - t;
    };
    const onDraft = () => {
      const reasoning = reasonCarePlan(kb, reasoningInput);
      return templateDraft({
        ...off,
        steps,
        results: { ...off.results, [care.id]: { ...results[care.id]!, reasoning } },
      });
    };
    for (let i = 0; i < 200; i++) {
      templateDraft(off);
      onDraft();
    }
    const offMs: number[] = [];
    const onMs: number[] = [];
    const reasonMs: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      offMs.push(time(() => templateDraft(off)));
      onMs.push(time(onDraft));
      reasonMs.push(time(() => reasonCarePlan(kb, reasoningInput)));
    }
    const stat = (xs: number[]) => ({ p50: r3(pct(xs, 50)), p99: r3(pct(xs, 99)) });
    const out = {
      iterations: ITERATIONS,
      drugs: view.medications.length,
      findings: once.findings.length,
      actions: once.actions.length,
      draftReasoningOff: stat(offMs),
      draftReasoningOn: stat(onMs),
      reasoningAlone: stat(reasonMs),
      addedP99Ms: r3(pct(onMs, 99) - pct(offMs, 99)),
      ratioP50: r3(pct(onMs, 50) / pct(offMs, 50)),
      target: { addedP99Ms: 5, met: pct(onMs, 99) - pct(offMs, 99) <= 5 },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reasoning step's input for the view, as the executor builds it. */
function recordedInput(view: ReturnType<typeof normaliseCase>['view']) {
  return {
    medications: view.medications.map((m) => ({
      name: m.name,
      codes: m.codes,
      dose: m.dose,
      route: m.route,
      frequencyPerDay: m.frequencyPerDay,
      startedDaysBeforeCase: m.startedDaysBeforeCase,
    })),
    allergies: view.allergies.map((a) => a.substance),
    conditions: view.problems.map((p) => p.text),
    renal: { egfr: 38, egfrMethod: 'CKD-EPI 2021, LOINC 98979-8', egfrDaysAgo: 11, creatinineMgDl: null },
    ageBand: view.patient.age,
    sex: view.patient.sex,
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:care] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
