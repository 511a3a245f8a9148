/**
 * `npm run bench:verify`: the cost of verifying a plan now that code reads every statement
 * (medicines, doses, stops, the concepts a statement names and what each citation is about).
 * JSON on stdout, progress on stderr. The SYNTHETIC 20-drug case (bench/medication-list.ts) goes
 * through normalisation and every step once with the starter knowledge base; then, in the same
 * run, per iteration:
 *
 *   - baseline: the four safety checks verification always ran over the regimen (interaction,
 *     allergy, contraindication, dose), on their own;
 *   - the knowledge-driven plan of the case, verified;
 *   - a model's plan of 12 statements that name drugs, doses and stops and cite the record;
 *   - a model's plan at the bounds (80 statements of 1,500 characters, each naming three drugs).
 *
 * Per case p50/p99 in ms and the ratio of each p50 to the baseline's. Environment:
 * BENCH_VERIFY_ITERATIONS (default 300).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { knowledgeDrivenPlan } from '../src/agents/knowledge-planner.js';
import { templateDraft } from '../src/agents/template-drafter.js';
import { normaliseCase } from '../src/clinical/normalise.js';
import type { Plan, Recommendation } from '../src/domain/plan.js';
import type { StepResult } from '../src/domain/steps.js';
import { checkInput, executeStep } from '../src/graphs/clinical-case/executor.js';
import { mergeMandatory } from '../src/graphs/clinical-case/steps.js';
import { verifyPlan } from '../src/graphs/clinical-case/verify.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import { LocalKnowledgeBaseClient } from '../src/tools/knowledge-base/client.js';
import { twentyDrugCase } from './medication-list.js';

const ITERATIONS = Number(process.env.BENCH_VERIFY_ITERATIONS ?? 300);
const progress = (m: string) => process.stderr.write(`[bench:verify] ${m}\n`);
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

const statement = (id: string, text: string, citations: string[]): Recommendation => ({
  id,
  text,
  citations,
  medications: [],
  supported: true,
  why: [],
  support: null,
});
const modelPlan = (recs: Recommendation[]): Plan => ({
  revision: 1,
  mode: 'llm',
  label: 'LLM draft (benchmark)',
  language: 'en',
  provenance: null,
  sections: { assessment: [], recommendations: recs, medicationChanges: [], monitoring: [], patientCommunication: [] },
  unavailable: [],
});

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'verify-bench-'));
  const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'kb.sqlite') });
  try {
    const tools = { knowledgeBase: new LocalKnowledgeBaseClient(store), literature: null, imaging: null };
    const { view } = normaliseCase(twentyDrugCase(), new Date('2026-12-01T09:00:00Z'));
    const { steps } = mergeMandatory(knowledgeDrivenPlan(view), view);
    const results: Record<string, StepResult> = {};
    for (const s of steps) results[s.id] = await executeStep(s, view, tools);
    const knowledgePlan = templateDraft({ view, steps, results, revision: 1, reviewerComments: [], language: 'en' });
    const refs = view.medications.map((m) => `case:${m.ref}`);
    const typical = modelPlan(
      [
        'Stop ibuprofen 400 mg three times daily: with warfarin it raises the bleeding risk.',
        'Switch tramadol to paracetamol 1 g four times daily.',
        'Reduce metformin to 500 mg twice daily for the eGFR of 38.',
        'Avoid naproxen and diclofenac.',
        'Continue warfarin; check the INR within a week.',
        'Add omeprazole 20 mg once daily while on clopidogrel and warfarin.',
        'Review digoxin 125 micrograms daily against the renal function.',
        'Gabapentin 300 mg three times daily is above the renal band; reduce it.',
        'Keep spironolactone 25 mg daily; check potassium and creatinine.',
        'Sertraline with warfarin adds to bleeding; monitor.',
        'Explain each change to the patient and agree a review date.',
        'Levothyroxine 100 mcg daily continues unchanged.',
      ].map((text, i) => statement(`m${i + 1}`, text, [refs[i % refs.length]!])),
    );
    const names = view.medications.map((m) => m.name);
    const atBounds = modelPlan(
      Array.from({ length: 80 }, (_, i) => {
        const head = `Review ${names[i % names.length]}, ${names[(i + 7) % names.length]} 20 mg daily and ${names[(i + 13) % names.length]}; `;
        return statement(`m${i + 1}`, (head + 'check the kidney function and the INR. '.repeat(40)).slice(0, 1500), [
          refs[i % refs.length]!,
        ]);
      }),
    );
    const baseline = () =>
      Promise.all(
        (['interaction', 'allergy', 'contraindication', 'dose'] as const).map((kind) =>
          tools.knowledgeBase.check(checkInput(view, kind, [], 'verification', []), new AbortController().signal),
        ),
      );
    const verify = (plan: Plan) =>
      verifyPlan({ plan, view, steps, results, injections: [], reviewerComments: [] }, tools);
    const runs = {
      baselineSafetyChecksOnly: baseline,
      knowledgeDrivenPlan: () => verify(knowledgePlan),
      modelPlan12Statements: () => verify(typical),
      modelPlanAtBounds80x1500: () => verify(atBounds),
    };
    const statements = (p: Plan) => Object.values(p.sections).flat().length;
    progress(
      `${view.medications.length} drugs; knowledge-driven plan of ${statements(knowledgePlan)} statements; ${ITERATIONS} iterations`,
    );
    for (let i = 0; i < 20; i++) for (const run of Object.values(runs)) await run();
    const times = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as number[]]));
    for (let i = 0; i < ITERATIONS; i++)
      for (const [k, run] of Object.entries(runs)) {
        const t = performance.now();
        await run();
        times[k]!.push(performance.now() - t);
      }
    const base = pct(times.baselineSafetyChecksOnly!, 50);
    const out = {
      benchmark: 'verification',
      date: new Date().toISOString(),
      node: process.version,
      iterations: ITERATIONS,
      drugs: view.medications.length,
      knowledgeDrivenStatements: statements(knowledgePlan),
      results: Object.fromEntries(
        Object.entries(times).map(([k, xs]) => [
          k,
          { p50Ms: r3(pct(xs, 50)), p99Ms: r3(pct(xs, 99)), ratioP50ToBaseline: r3(pct(xs, 50) / base) },
        ]),
      ),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:verify] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
