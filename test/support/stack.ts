/**
 * The one stack builder for the demo, the benchmarks and the test suites that run the system as
 * deployed: a real redis-server (src/infra/redis-server.ts; or an existing Redis), the API
 * server, cases workers and a delivery worker, each its own Node process (through tsx), sharing
 * one environment. It reports where the API listens and the tokens it configured, hands out typed
 * clients, and closes in order: the workers first (they finish or give back their jobs), then
 * the API (its queues and connections), then the Redis it started.
 *
 *   const stack = await DevStack.open({ staff: { 'dr-lee': ['reviewer'] }, env: { LOG_LEVEL: 'info' } });
 *   await stack.start();
 *   await stack.client().submitCase(submission);
 *   await stack.close();
 *
 * `stackEnv` is the environment on its own, for suites that build the parts in-process.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { ClinicalOrchestratorClient } from '../../src/client/index.js';
import { freePort, startLocalRedis, type LocalRedis } from '../../src/infra/redis-server.js';
import { hashToken } from '../../src/server/auth.js';
import {
  spawnTs,
  stopProcess,
  waitForHttp,
  waitForLine,
  type SpawnOptions,
  type Spawned,
} from '../helpers/processes.js';

export interface StackEnvOptions {
  redisUrl: string;
  keyPrefix: string;
  /** HTTP_PORT of the API. */
  port?: number;
  /** DATA_DIR (checkpoints, knowledge base, accounts); unset: the configuration's default. */
  dataDir?: string;
  /** Services that may submit cases: name → token. */
  services?: Record<string, string>;
  /** Staff tokens: name → token and roles. */
  staff?: Record<string, { token: string; roles: readonly string[] }>;
  /** Anything else; overrides what the options above set. */
  env?: Record<string, string>;
}

/** The decision-signing key of a stack's (or a test suite's) processes, derived from its key prefix. */
export const testDecisionKey = (keyPrefix: string) =>
  createHash('sha256').update(`decision-signing:${keyPrefix}`).digest('hex');

/** The audit chain key of a stack's processes, derived the same way. */
export const testAuditKey = (keyPrefix: string) =>
  createHash('sha256').update(`audit-chain:${keyPrefix}`).digest('hex');

/** The environment of a stack's processes. Only token hashes go into it. */
export function stackEnv(o: StackEnvOptions): Record<string, string> {
  const list = (entries: string[]) => entries.join(',');
  return {
    REDIS_URL: o.redisUrl,
    KEY_PREFIX: o.keyPrefix,
    // Every process of a stack holds the same decision-signing key (derived from its key prefix:
    // a test and demo convenience, never how a deployment makes its key).
    DECISION_SIGNING_KEY: testDecisionKey(o.keyPrefix),
    AUDIT_CHAIN_KEY: testAuditKey(o.keyPrefix),
    ...(o.port !== undefined ? { HTTP_PORT: String(o.port) } : {}),
    ...(o.dataDir !== undefined ? { DATA_DIR: o.dataDir } : {}),
    ...(o.services
      ? { SERVICE_TOKENS: list(Object.entries(o.services).map(([name, token]) => `${name}:${hashToken(token)}`)) }
      : {}),
    ...(o.staff && Object.keys(o.staff).length > 0
      ? {
          STAFF_TOKENS: list(
            Object.entries(o.staff).map(([name, s]) => `${name}:${hashToken(s.token)}:${s.roles.join('+')}`),
          ),
        }
      : {}),
    // A stack's processes get literature only when told (LITERATURE_BASE_URL or LITERATURE_CORPUS):
    // a worker would otherwise serve the shared corpus from its own process.
    LITERATURE_LOCAL: 'off',
    ...o.env,
  };
}

export interface DevStackOptions {
  /** Use this Redis; otherwise a redis-server is started with its data in `redisDir`. */
  redisUrl?: string;
  /** Where a started redis-server keeps its data (default: a fresh folder under .data). */
  redisDir?: string;
  /** AOF persistence for a started redis-server (default off). */
  appendonly?: boolean;
  /** Default: a fresh random prefix. */
  keyPrefix?: string;
  /** The API's port (default: a free one). */
  port?: number;
  /** DATA_DIR of the processes (default: the configuration's default). */
  dataDir?: string;
  /** The service that submits cases (default `ehr-gateway`, with a random token). */
  service?: { name: string; token?: string };
  /** Staff tokens by name: roles, and a token (default random). */
  staff?: Record<string, { roles: readonly string[]; token?: string }>;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Cases worker processes (default 1). */
  caseWorkers?: number;
  /** A delivery worker process (default true). */
  delivery?: boolean;
  /** Wait for each worker's ready line at start (needs captured output and LOG_LEVEL info; default true). */
  waitForWorkers?: boolean;
  /** How each process is run (output, environment, Node options); `logDir` writes `<logDir>/<role>.log` instead. */
  spawn?: SpawnOptions;
  logDir?: string;
  /** Called when a process exits while the stack is not closing. */
  onExit?: (role: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

const ENTRIES: Record<'api' | 'cases' | 'delivery', [string, RegExp]> = {
  api: ['src/server/main.ts', /server listening|"listening"|Server listening/i],
  cases: ['workers/cases.ts', /cases worker ready/],
  delivery: ['workers/delivery.ts', /delivery worker ready/],
};

const random = (bytes: number) => randomBytes(bytes).toString('hex');

export class DevStack {
  readonly procs = new Map<string, Spawned>();
  /** Output of every process that has exited and was started again. */
  readonly pastOutput: string[] = [];
  private closing = false;

  private constructor(
    private readonly options: DevStackOptions,
    /** The redis-server this stack started (null with `redisUrl`). */
    readonly redis: LocalRedis | null,
    readonly redisUrl: string,
    readonly keyPrefix: string,
    /** The API's base URL. */
    readonly base: string,
    readonly tokens: { service: string; staff: Record<string, string> },
    /** The environment every process gets (extended by `start`). */
    public env: Record<string, string>,
  ) {}

  /** Start Redis (unless given one) and work out the environment; no process runs yet (see `start`). */
  static async open(options: DevStackOptions = {}): Promise<DevStack> {
    const redis = options.redisUrl
      ? null
      : await startLocalRedis({
          dataDir: options.redisDir ?? path.resolve('.data', `stack-redis-${process.pid}-${random(3)}`),
          appendonly: options.appendonly ?? false,
        });
    const redisUrl = options.redisUrl ?? redis!.url;
    const keyPrefix = options.keyPrefix ?? `stack${random(4)}`;
    const port = options.port ?? (await freePort());
    const service = options.service ?? { name: 'ehr-gateway' };
    const tokens = {
      service: service.token ?? `svc-${random(16)}`,
      staff: Object.fromEntries(
        Object.entries(options.staff ?? {}).map(([name, s]) => [name, s.token ?? `staff-${random(16)}`]),
      ),
    };
    const env = stackEnv({
      redisUrl,
      keyPrefix,
      port,
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      services: { [service.name]: tokens.service },
      staff: Object.fromEntries(
        Object.entries(options.staff ?? {}).map(([name, s]) => [name, { token: tokens.staff[name]!, roles: s.roles }]),
      ),
      ...(options.env ? { env: options.env } : {}),
    });
    return new DevStack(options, redis, redisUrl, keyPrefix, `http://127.0.0.1:${port}`, tokens, env);
  }

  /** Roles of the cases workers: `cases-1` … */
  get caseWorkerRoles(): string[] {
    return Array.from({ length: this.options.caseWorkers ?? 1 }, (_, i) => `cases-${i + 1}`);
  }

  /**
   * Start the API (and wait until it is ready: it creates and seeds the knowledge base the workers
   * then open), then the cases workers and the delivery worker. `env` is added to every process's.
   */
  async start(env: Record<string, string> = {}): Promise<void> {
    this.env = { ...this.env, ...env };
    await this.spawn('api', true);
    const wait = this.options.waitForWorkers ?? true;
    await Promise.all([
      ...this.caseWorkerRoles.map((r) => this.spawn(r, wait)),
      ...((this.options.delivery ?? true) ? [this.spawn('delivery', wait)] : []),
    ]);
  }

  /**
   * Start one of the stack's processes by role (`api`, `cases-<n>`, `delivery`), or any other
   * entry point under a name of its own (`entry`, with extra environment), replacing an exited one.
   */
  async spawn(
    role: string,
    waitReady: boolean,
    other?: { entry: string; env?: Record<string, string> },
  ): Promise<Spawned> {
    const [entry, ready] = other
      ? [other.entry, null]
      : ENTRIES[role === 'api' ? 'api' : role === 'delivery' ? 'delivery' : 'cases'];
    const previous = this.procs.get(role);
    if (previous) this.pastOutput.push(previous.output());
    const proc = spawnTs(
      entry,
      { ...this.env, ...other?.env },
      {
        ...this.options.spawn,
        ...(this.options.logDir ? { output: { file: path.join(this.options.logDir, `${role}.log`) } } : {}),
      },
    );
    this.procs.set(role, proc);
    void proc.exited.then(({ code, signal }) => {
      if (!this.closing) this.options.onExit?.(role, code, signal);
    });
    if (waitReady && role === 'api') await this.waitForApi();
    else if (waitReady && ready) await waitForLine(proc, ready, 60_000);
    return proc;
  }

  async waitForApi(timeoutMs = 60_000): Promise<void> {
    try {
      await waitForHttp(`${this.base}/readyz`, timeoutMs);
    } catch (err) {
      const output = this.procs.get('api')?.output().slice(-4000);
      throw new Error(`${(err as Error).message}${output ? `:\n${output}` : ''}`);
    }
  }

  /** SIGTERM one process and wait for it to exit. */
  async stop(role: string): Promise<void> {
    const proc = this.procs.get(role);
    if (proc) await stopProcess(proc, 10_000);
  }

  /** A typed API client with the service token, or with another token (e.g. `stack.tokens.staff[name]`). */
  client(token = this.tokens.service, options: { timeoutMs?: number } = {}): ClinicalOrchestratorClient {
    return new ClinicalOrchestratorClient({ baseUrl: this.base, token, ...options });
  }

  /** Everything every process printed so far (captured output only). */
  allOutput(): string[] {
    return [...this.pastOutput, ...[...this.procs.values()].map((p) => p.output())];
  }

  /** Workers first, then the API and any other process, then the Redis this stack started. */
  async close(): Promise<void> {
    this.closing = true;
    const roles = [...this.procs.keys()];
    const workers = roles.filter((r) => r === 'delivery' || r.startsWith('cases-'));
    await Promise.all(workers.map((r) => this.stop(r)));
    await Promise.all(roles.filter((r) => !workers.includes(r)).map((r) => this.stop(r)));
    await this.redis?.stop();
  }
}
