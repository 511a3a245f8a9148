/**
 * The whole pipeline as deployed, for the chaos and soak suites: a dedicated `redis-server`
 * with AOF on, the API server, cases workers and a delivery worker as separate Node processes
 * (test/support/stack.ts), a local webhook receiver, a submitter and scripted reviewers that
 * talk HTTP only, through the typed client.
 *
 * Every process's output (JSON log lines) is kept across restarts so suites can scan it.
 * Nothing here reaches into the processes: faults are real signals and a real Redis restart.
 */
import { testDecisionKey } from '../support/stack.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ApiError, ClientError, type ClinicalOrchestratorClient } from '../../src/client/index.js';
import { AuditLog } from '../../src/audit/case-log.js';
import { CaseStore, type CaseRecord } from '../../src/cases/store.js';
import { DecisionStore } from '../../src/records/decisions.js';
import { openRecordsDatabase, type RecordsDatabase } from '../../src/records/database.js';
import { TERMINAL_STATUSES } from '../../src/cases/lifecycle.js';
import type { CaseSubmissionInput } from '../../src/domain/case.js';
import type { AuditEvent, DecisionRecord } from '../../src/domain/review.js';
import { identifiersOf, loadExampleCases, type ExampleCase } from './cases.js';
import { DevStack } from '../support/stack.js';
import { ROOT } from './processes.js';
import { startReceiver, type Receiver } from './webhook.js';

/** What the scripted reviewer does with a case, decided from its id alone (so the expected end state is known). */
export type ReviewPolicy = 'approve' | 'reject' | 'changes_then_approve';

export function policyFor(caseId: string): ReviewPolicy {
  const h = createHash('sha256').update(caseId).digest()[0]! % 10;
  return h < 7 ? 'approve' : h === 7 ? 'reject' : 'changes_then_approve';
}

export const expectedEnd = (p: ReviewPolicy) =>
  ({ status: p === 'reject' ? 'rejected' : 'approved', revision: p === 'changes_then_approve' ? 2 : 1 }) as const;

const hex = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);

/**
 * A copy of an example case with a new, unique synthetic identity (name, MRN, phone, e-mail,
 * address), replaced everywhere the old identity appeared, so a PHI scan can look for strings
 * no other case shares. Everything stays labelled synthetic.
 */
export function withSyntheticIdentity(
  example: ExampleCase,
  caseId: string,
  callbackUrl: string,
): { submission: Record<string, unknown>; identifiers: string[] } {
  const old = identifiersOf(example.submission).filter((s) => s.length >= 4 && !/^\d{4}-\d{2}-\d{2}$/.test(s));
  const tag = hex(caseId, 8);
  let json = JSON.stringify({ ...example.submission, caseId, callbackUrl });
  const fresh: string[] = [];
  old.forEach((value, i) => {
    const replacement = value.includes('@')
      ? `syn.${tag}.${i}@example.invalid`
      : /^\+?[\d ]+$/.test(value)
        ? `+44 1632 ${String(parseInt(tag.slice(0, 6), 16) % 1_000_000).padStart(6, '0')}`
        : `Syn${tag}x${i}`;
    json = json.split(value).join(replacement);
    fresh.push(replacement);
  });
  const dates = identifiersOf(example.submission).filter((s) => /^\d{4}-\d{2}-\d{2}$/.test(s));
  return { submission: JSON.parse(json) as Record<string, unknown>, identifiers: [...fresh, ...dates] };
}

type Role = 'api' | 'delivery' | `cases-${number}`;

export interface PipelineOptions {
  /** Cases workers (separate processes). */
  caseWorkers?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  logLevel?: string;
}

export interface Figures {
  cases: number;
  kills: Record<string, number>;
  redisRestarts: number;
  submitRetries: number;
  reviewerErrors: number;
  /** What the reviewer's failed requests answered (status or network error), counted. */
  reviewerErrorKinds: Record<string, number>;
  decisions: number;
}

/** The kind of a failed request for the figures: what a network failure or timeout was (its code, else its name). */
function networkKind(err: unknown): string {
  const original = err instanceof ClientError && err.cause instanceof Error ? err.cause : err;
  if (!(original instanceof Error)) return 'error';
  return (original.cause as { code?: string } | undefined)?.code ?? original.name;
}

export class Pipeline {
  readonly prefix = `chaos${randomBytes(4).toString('hex')}`;
  readonly serviceToken = `svc-${randomBytes(16).toString('hex')}`;
  readonly reviewerToken = `rev-${randomBytes(16).toString('hex')}`;
  readonly secret = randomBytes(24).toString('hex');
  readonly dataDir: string;
  readonly figures: Figures = {
    cases: 0,
    kills: {},
    redisRestarts: 0,
    submitRetries: 0,
    reviewerErrors: 0,
    reviewerErrorKinds: {},
    decisions: 0,
  };
  /** Decisions the reviewer got a 201 for: `${caseId}.r${revision}` → action. */
  readonly acknowledged = new Map<string, string>();
  /** Decisions the reviewer sent, whatever the answer (a crash may have eaten the answer). */
  readonly attempted = new Map<string, string>();
  stack!: DevStack;
  client!: Redis;
  receiver!: Receiver;
  private service!: ClinicalOrchestratorClient;
  private reviewer!: ClinicalOrchestratorClient;

  private constructor(private readonly options: PipelineOptions) {
    this.dataDir = path.join(ROOT, '.data', `pipeline-${this.prefix}`);
  }

  static async start(options: PipelineOptions = {}): Promise<Pipeline> {
    const p = new Pipeline(options);
    await p.boot();
    return p;
  }

  private async boot(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    this.stack = await DevStack.open({
      redisDir: path.join(this.dataDir, 'redis'),
      appendonly: true,
      keyPrefix: this.prefix,
      dataDir: path.join(this.dataDir, 'data'),
      service: { name: 'ehr-gateway', token: this.serviceToken },
      staff: { 'dr-chaos': { roles: ['reviewer'], token: this.reviewerToken } },
      caseWorkers: this.options.caseWorkers ?? 2,
      env: {
        NODE_ENV: 'production',
        // The scripted reviewer is an integration with a staff token; production refuses its decisions otherwise.
        STAFF_TOKEN_DECISIONS: 'true',
        LOG_LEVEL: this.options.logLevel ?? 'info',
        WEBHOOK_SECRETS: `ehr-gateway:${this.secret}`,
        CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
        // Short locks so a killed process's jobs come back quickly.
        WORKER_LOCK_MS: '2000',
        REVIEW_LEASE_MS: '5000',
        WEBHOOK_BACKOFF_MS: '100',
        WEBHOOK_ATTEMPTS: '30',
        WEBHOOK_TIMEOUT_MS: '2000',
        CASE_JOB_ATTEMPTS: '10',
        // Every process is killed every few seconds: losing a worker is the test, not a poison job.
        WORKER_MAX_STALLS: '20',
        SHUTDOWN_GRACE_MS: '2000',
        ...this.options.env,
      },
    });
    this.client = new Redis(this.stack.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
    this.client.on('error', () => undefined);
    this.receiver = await startReceiver(this.secret);
    this.service = this.stack.client(this.serviceToken, { timeoutMs: 10_000 });
    this.reviewer = this.stack.client(this.reviewerToken, { timeoutMs: 10_000 });
    await this.stack.start();
  }

  /** SIGKILL a process and start it again (without waiting for it to be ready). */
  async kill(role: Role, restartAfterMs = 0): Promise<void> {
    const proc = this.stack.procs.get(role);
    if (!proc) return;
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      this.figures.kills[role.startsWith('cases') ? 'cases' : role] =
        (this.figures.kills[role.startsWith('cases') ? 'cases' : role] ?? 0) + 1;
    }
    await proc.exited;
    if (restartAfterMs > 0) await new Promise((r) => setTimeout(r, restartAfterMs));
    await this.stack.spawn(role, false);
  }

  /** Stop redis-server (SIGTERM, AOF flushed), keep it down for `downMs`, start it again on the same port. */
  async restartRedis(downMs: number): Promise<void> {
    await this.stack.redis!.stop();
    await new Promise((r) => setTimeout(r, downMs));
    await this.stack.redis!.restart();
    this.figures.redisRestarts += 1;
  }

  roles(): Role[] {
    return [...this.stack.procs.keys()] as Role[];
  }

  /** Everything every process printed so far. */
  allOutput(): string[] {
    return this.stack.allOutput();
  }

  /** Submit over HTTP until accepted: a crash or restart only delays it (the same case id and body are idempotent). */
  async submit(submission: Record<string, unknown>, deadline: number): Promise<void> {
    for (;;) {
      try {
        await this.service.submitCase(submission as CaseSubmissionInput);
        return;
      } catch (err) {
        if (err instanceof ApiError && err.status < 500 && err.status !== 429)
          throw new Error(`intake refused ${String(submission.caseId)}: ${err.status} ${JSON.stringify(err.problem)}`);
      }
      this.figures.submitRetries += 1;
      if (Date.now() > deadline) throw new Error(`could not submit ${String(submission.caseId)} before the deadline`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * One scripted reviewer's turn: claim the next item and decide it by the case's policy.
   * 'empty' when there was nothing to claim; 'error' when a process or Redis was down (counted; the caller waits and retries).
   */
  async reviewOnce(): Promise<'decided' | 'empty' | 'error'> {
    let step: 'claim' | 'decision' = 'claim';
    try {
      const claimed = await this.reviewer.claimNextReview();
      if (!claimed) return 'empty';
      const { caseId, revision } = claimed;
      const policy = policyFor(caseId);
      const decision =
        policy === 'reject'
          ? ({ action: 'reject', reason: 'Scripted reviewer: rejected by policy.' } as const)
          : policy === 'changes_then_approve' && revision === 1
            ? ({ action: 'request_changes', comments: 'Scripted reviewer: please state the monitoring plan.' } as const)
            : ({ action: 'approve' } as const);
      const key = `${caseId}.r${revision}`;
      this.attempted.set(key, decision.action);
      step = 'decision';
      await this.reviewer.decide(caseId, revision, decision);
      this.acknowledged.set(key, decision.action);
      this.figures.decisions += 1;
      return 'decided';
    } catch (err) {
      this.reviewerError(
        err instanceof ApiError
          ? `${step} ${err.status} ${JSON.stringify(err.problemCode ?? '')}`
          : `network ${networkKind(err)}`,
      );
      return 'error';
    }
  }

  private reviewerError(kind: string): void {
    this.figures.reviewerErrors += 1;
    this.figures.reviewerErrorKinds[kind] = (this.figures.reviewerErrorKinds[kind] ?? 0) + 1;
  }

  store(): CaseStore {
    return new CaseStore(this.client, this.prefix);
  }

  async records(caseIds: readonly string[]): Promise<Map<string, CaseRecord | null>> {
    const store = this.store();
    const out = new Map<string, CaseRecord | null>();
    for (let i = 0; i < caseIds.length; i += 100) {
      const chunk = caseIds.slice(i, i + 100);
      const got = await Promise.all(chunk.map((id) => store.get(id)));
      chunk.forEach((id, k) => out.set(id, got[k] ?? null));
    }
    return out;
  }

  /** Cases that are terminal and, when closed by a human, delivered. */
  static settled(r: CaseRecord | null): boolean {
    if (!r || !TERMINAL_STATUSES.includes(r.status)) return false;
    return r.status === 'failed' || r.delivery?.status === 'delivered' || r.delivery?.status === 'failed';
  }

  private recordsOpen: Promise<RecordsDatabase> | null = null;

  /** The processes' records database (opened on first use, closed with the pipeline). */
  private recordsDb(): Promise<RecordsDatabase> {
    this.recordsOpen ??= openRecordsDatabase({
      databaseUrl: this.options.env?.DATABASE_URL,
      sqlitePath: path.join(this.dataDir, 'data', 'clinical-orchestrator.sqlite'),
    });
    return this.recordsOpen;
  }

  async decisionsOf(caseId: string): Promise<DecisionRecord[]> {
    return new DecisionStore(await this.recordsDb(), testDecisionKey(this.prefix)).list(caseId);
  }

  async auditOf(caseId: string): Promise<AuditEvent[]> {
    return new AuditLog(this.client, this.prefix).list(caseId);
  }

  /** For a case that did not settle: the state of its jobs, so a failure says where it stopped. */
  async diagnose(caseId: string, revision: number): Promise<string> {
    const job = async (queue: 'cases' | 'review', id: string) => {
      const key = `{${this.prefix}:${queue}}:${queue}:${id}`;
      const [finishedOn, failedReason, returnvalue, ats, stc] = await this.client.hmget(
        key,
        'finishedOn',
        'failedReason',
        'returnvalue',
        'ats',
        'stc',
      );
      if (!(await this.client.exists(key))) return `${id}: none`;
      return `${id}: ${finishedOn ? 'finished' : 'open'} starts=${ats ?? 0} stalls=${stc ?? 0}${failedReason ? ` failed="${failedReason.slice(0, 120)}"` : ''}${returnvalue ? ` → ${returnvalue.slice(0, 80)}` : ''}`;
    };
    const parts = [await job('cases', `case.${caseId}`), await job('review', `review.${caseId}.r${revision}`)];
    for (let r = 1; r <= revision; r++) parts.push(await job('cases', `resume.${caseId}.r${r}`));
    return parts.join('; ');
  }

  async usedMemoryBytes(): Promise<number> {
    const info = await this.client.info('memory');
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  }

  async close(): Promise<void> {
    this.client.disconnect();
    await this.stack.close();
    await this.receiver.close();
    if (this.recordsOpen) await (await this.recordsOpen).close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Cases for a run: the example cases in turn, each with its own synthetic identity. */
export function chaosCases(
  n: number,
  callbackUrl: string,
  runTag: string,
): Array<{ caseId: string; submission: Record<string, unknown>; identifiers: string[] }> {
  const examples = loadExampleCases();
  return Array.from({ length: n }, (_, i) => {
    const caseId = `chaos-${runTag}-${String(i).padStart(5, '0')}`;
    const ex = examples[i % examples.length]!;
    return { caseId, ...withSyntheticIdentity(ex, caseId, callbackUrl) };
  });
}
