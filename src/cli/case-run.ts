/**
 * `co case run`: one or more cases through the real clinical-case graph in this process, with
 * the tools and agents a worker would use (workers/graph-setup.ts): the embedded SQLite knowledge
 * base (seeded from kb/starter), knowledge-driven mode unless a model is configured, checkpoints
 * in a temporary folder that is deleted afterwards. No Redis, no server: the run stops at the
 * review interrupt, where a human would decide.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../config.js';
import type { MinimisedCase } from '../domain/minimised-case.js';
import { SEVERITY_RANK, type ReviewRequest } from '../domain/plan.js';
import type { GraphEvent } from '../graphs/clinical-case/runtime.js';
import type { ClinicalCaseStateValue } from '../graphs/clinical-case/state.js';
import { CareReasoningResult } from '../domain/care-reasoning.js';
import { openCaseRuntime, openToolBox } from '../../workers/graph-setup.js';
import type { CaseFile } from './case-input.js';
import { failure } from './errors.js';
import { MAX_ROWS, type CaseRunResult, type CaseRunView } from './output.js';

export interface CaseRunner {
  readonly config: Config;
  run(caseFile: CaseFile, onEvent?: (event: GraphEvent) => void): Promise<CaseRunResult>;
  /** Abort the run in progress (Ctrl-C). */
  abort(): void;
  close(): Promise<void>;
}

/** Where `co` keeps the local literature index between runs: $XDG_CACHE_HOME (or ~/.cache)/clinical-orchestrator. */
function literatureCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return path.join(env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'clinical-orchestrator', 'literature-index');
}

/**
 * Open the knowledge base and tools once for a batch of cases. `env` is the process environment:
 * OPENAI_* switch to LLM mode, KB_SEED and the tool URLs are honoured; DATA_DIR, DATABASE_URL and
 * REDIS_URL are not (everything lives in the temporary folder).
 */
export async function openCaseRunner(
  env: Readonly<Record<string, string | undefined>>,
  options: { onLiterature?: (line: string) => void } = {},
): Promise<CaseRunner> {
  const dir = await mkdtemp(path.join(tmpdir(), 'co-case-run-'));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  let config: Config;
  let toolBox: Awaited<ReturnType<typeof openToolBox>>;
  try {
    config = loadConfig({
      ...env,
      DATA_DIR: dir,
      DATABASE_URL: undefined,
      REDIS_URL: undefined,
      // The local literature index outlives the run (it is rebuilt only when the corpus changes).
      LITERATURE_INDEX_DIR: env.LITERATURE_INDEX_DIR ?? literatureCacheDir(env),
    });
    const say = options.onLiterature;
    if (say && !config.literature.baseUrl && config.literature.corpus)
      say(`co: literature: local E-utilities service over ${config.literature.corpus}`);
    let shown = '';
    toolBox = await openToolBox(config, {
      ...(say
        ? {
            literatureProgress: (done: number, total: number | null, phase: string) => {
              const line = `co: literature: ${phase}${total ? ` ${done}/${total}` : ''}`;
              if (line !== shown && (!total || done === total || done === 0)) say((shown = line));
            },
          }
        : {}),
    });
  } catch (err) {
    await removeDir();
    throw err;
  }
  let runs = 0;
  let closed = false;
  // One controller per run (a batch of cases would otherwise pile listeners onto one signal); abort() stops the current one.
  let controller = new AbortController();
  let interrupted = false;
  return {
    config,
    async run(caseFile, onEvent) {
      const started = Date.now();
      controller = new AbortController();
      if (interrupted) controller.abort(new Error('interrupted'));
      // Each case gets its own checkpoint file: two files may carry the same case id.
      const { runtime, close } = await openCaseRuntime(
        { ...config, dataDir: path.join(dir, `run-${++runs}`) },
        { tools: toolBox.tools },
      );
      try {
        const outcome = await runtime.start(
          caseFile.submission,
          caseFile.asOf ?? new Date().toISOString(),
          config.model.mode,
          {
            signal: controller.signal,
            ...(onEvent ? { onEvent } : {}),
          },
        );
        if (outcome.kind !== 'review')
          throw failure('RUN_FAILED', `${caseFile.file}: the case closed (${outcome.status}) without reaching review`);
        const { values } = await runtime.state(caseFile.submission.caseId);
        return resultOf(caseFile, outcome.request, config.model.mode, Date.now() - started, values);
      } finally {
        await close();
      }
    },
    abort() {
      interrupted = true;
      controller.abort(new Error('interrupted'));
    },
    async close() {
      if (closed) return;
      closed = true;
      await toolBox.close().catch(() => undefined);
      await removeDir();
    },
  };
}

/** The bounded view: key results, medications, problems and allergies (at most MAX_ROWS each), and counts. */
export function boundedView(view: MinimisedCase): CaseRunView {
  const rows = <T>(xs: readonly T[]) => xs.slice(0, MAX_ROWS);
  const over = (xs: readonly unknown[]) => Math.max(0, xs.length - MAX_ROWS);
  return {
    question: view.question,
    patient: view.patient,
    keyResults: rows(view.labs),
    medications: rows(view.medications),
    problems: rows(view.problems),
    allergies: rows(view.allergies),
    counts: {
      keyResults: view.labs.length,
      otherResults: view.otherLabs.length,
      medications: view.medications.length,
      problems: view.problems.length,
      resolvedProblems: view.resolvedProblems.length,
      allergies: view.allergies.length,
      imagingStudies: view.imaging.length,
      notes: view.notes.length,
      notListed: {
        keyResults: over(view.labs),
        medications: over(view.medications),
        problems: over(view.problems),
        allergies: over(view.allergies),
      },
      resources: view.counts.resources,
      observations: view.counts.observations,
      tests: view.counts.tests,
      medicationsByStatus: view.counts.medicationsByStatus,
    },
  };
}

function resultOf(
  caseFile: CaseFile,
  request: ReviewRequest,
  mode: CaseRunResult['mode'],
  durationMs: number,
  state: ClinicalCaseStateValue | null,
): CaseRunResult {
  const careStep = state?.steps.find((s) => s.type === 'care_reasoning');
  const reasoning = careStep ? (state?.results[careStep.id]?.reasoning ?? null) : null;
  if (!request.view) throw failure('RUN_FAILED', `${caseFile.file}: the review request carries no case view`);
  const findings = [...request.findings].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  const cited = new Set([
    ...Object.values(request.plan.sections).flatMap((recs) => recs.flatMap((r) => r.citations)),
    ...findings.flatMap((f) => f.citations),
  ]);
  return {
    ok: true,
    file: caseFile.file,
    caseId: request.caseId,
    mode,
    status: 'awaiting_review',
    revision: request.revision,
    durationMs,
    view: boundedView(request.view),
    plan: request.plan,
    evidence: request.evidence.filter((e) => cited.has(e.id)),
    findings,
    maxSeverity: findings[0]?.severity ?? null,
    careReasoning: reasoning ? CareReasoningResult.omit({ facts: true }).parse(reasoning) : null,
  };
}

/** One line of progress for a finished graph node (stderr). */
export function progressLine(event: GraphEvent): string | null {
  if (event.kind !== 'finished') return null;
  const d = event.detail ?? {};
  if (event.node === 'execute_step' && event.step) {
    const facts = [d.status, d.code, d.source, d.durationMs !== undefined ? `${String(d.durationMs)} ms` : null]
      .filter((x) => x !== undefined && x !== null && x !== '')
      .join(', ');
    return `  ✓ step ${event.step.type} (${event.step.id})${facts ? `: ${facts}` : ''}`;
  }
  if (event.node === 'draft')
    return `  ✓ draft: ${String(d.recommendations ?? 0)} statements, ${String(d.unavailable ?? 0)} not checked`;
  if (event.node === 'verify')
    return `  ✓ verify: ${String(d.findings ?? 0)} findings, most severe ${String(d.maxSeverity ?? 'none')}`;
  return `  ✓ ${event.node}`;
}
