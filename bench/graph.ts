/**
 * `npm run bench:graph`: overhead of the clinical-case graph per case with zero-latency tools,
 * on one process: CPU ms per case, cases per second, and how both grow with the number of
 * plan steps (5, 20, 80). JSON on stdout, progress on stderr.
 *
 * A case runs from intake to the review interrupt (normalise, decompose, the step waves, draft,
 * verify, review). Tools answer at once with empty results (no facts are invented). Measured
 * with the in-memory checkpointer (graph cost alone) and with SQLite (what a worker runs).
 * The baseline measured in the same run is the same work without LangGraph: the same node
 * functions called directly in order, so the ratio is LangGraph's own overhead.
 *
 * Environment: BENCH_GRAPH_CASES (cases per size, default 200).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemorySaver } from '@langchain/langgraph';
import { templateDrafter } from '../src/agents/knowledge-mode.js';
import { detectInjections } from '../src/clinical/injection.js';
import { normaliseCase } from '../src/clinical/normalise.js';
import type { Planner } from '../src/domain/agents.js';
import type { PlanStep, StepResult } from '../src/domain/steps.js';
import type { GraphDeps } from '../src/graphs/clinical-case/deps.js';
import { executeStep } from '../src/graphs/clinical-case/executor.js';
import { compileClinicalCaseGraph } from '../src/graphs/clinical-case/graph.js';
import { mergeMandatory } from '../src/graphs/clinical-case/steps.js';
import { verifyPlan } from '../src/graphs/clinical-case/verify.js';
import { openSqliteCheckpointer } from '../src/infra/checkpointer.js';
import { parseSubmission } from '../src/queues/producer.js';
import type { KnowledgeBaseClient } from '../src/domain/knowledge-client.js';
import { emptyReasoning } from '../src/domain/care-reasoning.js';
import { emptyMentions } from '../src/domain/knowledge.js';

const CASES = Number(process.env.BENCH_GRAPH_CASES ?? 200);
const SIZES = [5, 20, 80];
const progress = (m: string) => process.stderr.write(`[bench:graph] ${m}\n`);

const emptyKb: KnowledgeBaseClient = {
  lookup: (input) =>
    Promise.resolve({
      data: { resolved: input.terms.map((term) => ({ term, entity: null, searchNames: [] })), facts: [] },
      version: 'empty',
    }),
  check: (input) =>
    Promise.resolve({
      data: { kind: input.kind, checked: [], unknownTerms: [], findings: [], unchecked: [], facts: [] },
      version: 'empty',
    }),
  reason: () => Promise.resolve({ data: emptyReasoning(), version: 'empty' }),
  mentions: (input) =>
    Promise.resolve({
      data: emptyMentions(input),
      version: 'empty',
    }),
};

/** One medication gives 2 mandatory steps (allergy, dose); the planner adds n - 2 independent lookups. */
const sizedPlanner = (n: number): Planner => ({
  kind: 'knowledge-driven',
  plan: () =>
    Promise.resolve({
      steps: Array.from({ length: n - 2 }, (_, i): PlanStep => ({
        id: `lookup-${i}`,
        type: 'kb_lookup',
        purpose: `lookup ${i}`,
        inputs: { medicationRefs: [], studyRef: null, terms: [`term-${i}`] },
        dependsOn: [],
        mandatory: false,
      })),
      planner: 'knowledge-driven',
      note: null,
    }),
});

const submission = parseSubmission(
  {
    caseId: 'bench',
    question: 'Is the current medication list safe?',
    bundle: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', id: 'p1', birthDate: '1950-05-05' } },
        {
          resource: {
            resourceType: 'MedicationStatement',
            status: 'active',
            medicationCodeableConcept: { text: 'drug-a' },
            subject: { reference: 'Patient/p1' },
          },
        },
      ],
    },
  },
  [],
);

function deps(n: number): GraphDeps {
  return {
    tools: {
      knowledgeBase: emptyKb,
      literature: null,
      imaging: null,
      policy: { timeoutMs: 1000, retries: 0, backoffMs: 1 },
    },
    planner: sizedPlanner(n),
    drafter: templateDrafter,
    maxRevisions: 3,
  };
}

/** The same work without LangGraph: node functions called directly, steps in parallel. */
async function direct(n: number): Promise<void> {
  const d = deps(n);
  const { view } = normaliseCase(submission, new Date());
  const injections = detectInjections(view);
  const { steps } = mergeMandatory((await d.planner.plan(view, [])).steps, view);
  const results: Record<string, StepResult> = {};
  for (const r of await Promise.all(steps.map((s) => executeStep(s, view, d.tools)))) results[r.stepId] = r;
  const plan = await d.drafter.draft({ view, steps, results, revision: 1, reviewerComments: [], language: 'en' });
  await verifyPlan({ plan, view, results, injections, reviewerComments: [] }, d.tools);
}

interface Measure {
  cases: number;
  casesPerSec: number;
  cpuMsPerCase: number;
  wallMsPerCase: { p50: number; p99: number };
}

async function measure(run: (i: number) => Promise<unknown>): Promise<Measure> {
  for (let i = 0; i < Math.min(20, CASES); i++) await run(-1 - i); // warm-up
  const wall: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CASES; i++) {
    const s = performance.now();
    await run(i);
    wall.push(performance.now() - s);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  wall.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return {
    cases: CASES,
    casesPerSec: Math.round(CASES / seconds),
    cpuMsPerCase: r((cpu.user + cpu.system) / 1000 / CASES),
    wallMsPerCase: {
      p50: r(wall[Math.floor(wall.length * 0.5)]!),
      p99: r(wall[Math.min(wall.length - 1, Math.ceil(wall.length * 0.99) - 1)]!),
    },
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-graph-'));
  const out: Record<string, unknown> = {};
  try {
    for (const n of SIZES) {
      progress(`${n} steps: direct calls (no LangGraph)`);
      const baseline = await measure(() => direct(n));
      progress(`${n} steps: LangGraph, in-memory checkpointer`);
      const memGraph = compileClinicalCaseGraph(deps(n), new MemorySaver());
      let superSteps = 0;
      const memory = await measure(async (i) => {
        const config = { configurable: { thread_id: `mem-${n}-${i}` } };
        await memGraph.invoke({ caseId: `c${i}`, submission, receivedAt: new Date().toISOString() }, config);
        if (i === 0) for await (const _ of (memGraph.checkpointer as MemorySaver).list(config)) superSteps += 1;
      });
      progress(`${n} steps: LangGraph, SQLite checkpointer`);
      const sqlite = openSqliteCheckpointer(path.join(dir, `g${n}.sqlite`));
      const sqlGraph = compileClinicalCaseGraph(deps(n), sqlite.saver);
      const sqliteRun = await measure((i) =>
        sqlGraph.invoke(
          { caseId: `c${i}`, submission, receivedAt: new Date().toISOString() },
          { configurable: { thread_id: `sql-${n}-${i}` } },
        ),
      );
      await sqlite.close();
      out[`steps_${n}`] = {
        steps: n,
        checkpointsPerCase: superSteps,
        baselineDirect: baseline,
        langgraphMemory: memory,
        langgraphSqlite: sqliteRun,
        overheadCpuMsPerCase: Math.round((memory.cpuMsPerCase - baseline.cpuMsPerCase) * 1000) / 1000,
        ratioCasesPerSecMemoryOverDirect: Math.round((memory.casesPerSec / baseline.casesPerSec) * 1000) / 1000,
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'clinical-case-graph', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, casesPerSize: CASES, results: out }, null, 2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:graph failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
