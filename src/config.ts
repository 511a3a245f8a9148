/**
 * Configuration: one zod schema over the environment, parsed once at start-up into a
 * typed, frozen object that is passed down explicitly. Nothing below this module reads
 * `process.env`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';
import { RENAL_RESULT_WINDOW_DAYS } from './domain/knowledge.js';
import { PlanLanguage } from './domain/plan.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);

/**
 * A service token entry: `name:sha256hex`. Only the SHA-256 of each token is configured;
 * the token itself never appears in configuration.
 */
const serviceTokens = csv.pipe(
  z.array(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,63}:[0-9a-f]{64}$/,
        'each entry must be name:sha256hex (lower-case hex of the token)',
      )
      .transform((entry) => {
        const [name, hash] = entry.split(':') as [string, string];
        return { name, sha256: hash };
      }),
  ),
);

/** A webhook secret entry: `service:secret`, the secret at least 32 characters. */
const webhookSecret = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,63}:.{32,}$/,
    'each entry must be service:secret (the service token name, a secret of at least 32 characters); a secret shared by every service would let one receiver forge plans to another',
  )
  .transform((entry) => {
    const at = entry.indexOf(':');
    return { service: entry.slice(0, at), secret: entry.slice(at + 1) };
  });

export const STAFF_ROLES = ['reviewer', 'kb_editor', 'ops', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/**
 * A staff API token entry: `name:sha256hex:role+role` with roles from STAFF_ROLES. Like
 * service tokens, only the SHA-256 of each token is configured.
 */
const staffTokens = csv.pipe(
  z.array(
    z
      .string()
      .regex(
        new RegExp(
          `^[a-z0-9][a-z0-9._-]{0,63}:[0-9a-f]{64}:(${STAFF_ROLES.join('|')})(\\+(${STAFF_ROLES.join('|')}))*$`,
        ),
        `each entry must be name:sha256hex:role[+role], roles: ${STAFF_ROLES.join(', ')}`,
      )
      .transform((entry) => {
        const [name, hash, roles] = entry.split(':') as [string, string, string];
        return { name, sha256: hash, roles: [...new Set(roles.split('+'))] as StaffRole[] };
      }),
  ),
);

const redisUrl = z
  .string()
  .url()
  .refine((u) => /^rediss?:\/\//.test(u), 'must start with redis:// or rediss://');

const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must start with postgres:// or postgresql://');

export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    HTTP_HOST: z.string().min(1).default('127.0.0.1'),
    HTTP_PORT: int(0, 65535).default(8080),
    /** Largest accepted request body in bytes; larger case submissions get 413. A whole-life record (a Synthea bundle) is 0.2–2 MB; 16 MB leaves room for long records. */
    MAX_BODY_BYTES: int(1024, 256 * 1024 * 1024).default(16 * 1024 * 1024),

    /** Redis for BullMQ and case records. Required by the server and workers; the demo and tests start one when unset. */
    REDIS_URL: redisUrl.optional(),
    /** Namespace for every Redis key this system writes. Queue keys get a per-queue hash tag for Redis Cluster. */
    KEY_PREFIX: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, _ or -, starting with a letter')
      .default('co'),

    /** Postgres for checkpoints and the knowledge base; SQLite under DATA_DIR when unset. */
    DATABASE_URL: postgresUrl.optional(),
    DATA_DIR: z.string().min(1).default('.data'),
    /**
     * What an empty knowledge base is seeded from on first open: `starter` (the curated content
     * in kb/starter), a folder of CSV files or a JSON file in the importer's format, or `none`.
     */
    KB_SEED: z.string().min(1).default('starter'),
    /** How old (days before the case) an eGFR or creatinine may be for the renal dose checks to use it. */
    RENAL_RESULT_WINDOW_DAYS: int(1, 3650).default(RENAL_RESULT_WINDOW_DAYS),
    /** E-utilities base URL for literature search: NCBI (https://eutils.ncbi.nlm.nih.gov/entrez/eutils) or the local service. Unset: literature steps report "not configured". */
    LITERATURE_BASE_URL: z.string().url().optional(),
    NCBI_API_KEY: z.string().min(1).optional(),
    /** Contact e-mail sent to NCBI with every request, as NCBI asks. */
    NCBI_EMAIL: z.string().email().optional(),
    LITERATURE_CACHE_TTL_SECONDS: int(0, 30 * 24 * 3600).default(86_400),
    /** Consecutive failed literature requests that open its circuit breaker, and how long it stays open before one trial call. */
    LITERATURE_BREAKER_FAILURES: int(1, 1000).default(5),
    LITERATURE_BREAKER_HALF_OPEN_MS: int(100, 3_600_000).default(30_000),
    /** The local literature service: corpus (PubMed XML/.gz or JSONL file or folder), index folder, port. */
    LITERATURE_CORPUS: z.string().min(1).optional(),
    /**
     * `auto` (default): with neither LITERATURE_BASE_URL nor LITERATURE_CORPUS set, use the shared
     * PubMedQA corpus (SHARED_DATA_DIR/pubmedqa/corpus.jsonl) when it exists; `off`: never.
     */
    LITERATURE_LOCAL: z.enum(['auto', 'off']).default('auto'),
    LITERATURE_INDEX_DIR: z.string().min(1).optional(),
    /**
     * Where the local literature service keeps its index: `memory` (default; BM25 in the
     * process, persisted under LITERATURE_INDEX_DIR) or `postgres` (PostgreSQL full-text search
     * on LITERATURE_DATABASE_URL, else DATABASE_URL), for corpora past one process's memory.
     */
    LITERATURE_BACKEND: z.enum(['memory', 'postgres']).default('memory'),
    LITERATURE_DATABASE_URL: postgresUrl.optional(),
    LITERATURE_PORT: int(0, 65535).default(8790),
    /** Imaging: the Open Inference Protocol (KServe v2) server the imaging tool calls (ours, Triton, KServe, MLServer). Unset: imaging steps report "not configured". */
    IMAGING_BASE_URL: z.string().url().optional(),
    IMAGING_MODEL_NAME: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
      .default('pneumonia-cnn'),
    IMAGING_MODEL_VERSION: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/)
      .optional(),
    /** Override the model's published threshold and indeterminate band (needed for servers that publish none, e.g. a plain Triton model). */
    IMAGING_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
    IMAGING_INDETERMINATE_LOW: z.coerce.number().min(0).max(1).optional(),
    IMAGING_INDETERMINATE_HIGH: z.coerce.number().min(0).max(1).optional(),
    IMAGING_TIMEOUT_MS: int(100, 120_000).default(5000),
    IMAGING_RETRIES: int(0, 10).default(2),
    /** Consecutive failures that open the imaging circuit breaker, and how long it stays open before one trial call. */
    IMAGING_BREAKER_FAILURES: int(1, 1000).default(5),
    IMAGING_BREAKER_HALF_OPEN_MS: int(100, 3_600_000).default(30_000),
    /** Largest image accepted (bytes), by the imaging service and by the tool (inline or fetched). */
    IMAGING_MAX_IMAGE_BYTES: int(1024, 512 * 1024 * 1024).default(32 * 1024 * 1024),
    /** The imaging service itself: the model directory (meta.json + model file), port and largest batch. */
    IMAGING_MODEL_DIR: z.string().min(1).default('models/pneumonia-cnn/tfjs'),
    IMAGING_PORT: int(0, 65535).default(8791),
    IMAGING_MAX_BATCH: int(1, 4096).default(64),
    /** DICOMweb (WADO-RS) server holding the studies a case references by UID; the tool fetches instances from here only. */
    DICOMWEB_BASE_URL: z.string().url().optional(),
    /** Bearer token for the DICOMweb server, if it needs one. */
    DICOMWEB_TOKEN: z.string().min(1).optional(),
    /** Real public data sets (read-only), e.g. ../shared/data. */
    SHARED_DATA_DIR: z.string().min(1).default('../shared/data'),

    OPENAI_BASE_URL: z.string().url().optional(),
    OPENAI_API_KEY: z.string().min(1).optional(),
    /** Setting a model name switches planning and drafting to LLM mode; unset means knowledge-driven mode. */
    OPENAI_MODEL: z.string().min(1).optional(),
    /** How long one model request may take before it is abandoned (each retry gets the same). */
    OPENAI_TIMEOUT_MS: int(1000, 600_000).default(60_000),
    /** Retries after a failed or timed-out model request (0 = one attempt only). */
    OPENAI_MAX_RETRIES: int(0, 10).default(2),
    /** Most tokens the model may write in one answer (bounds cost, latency and plan size). */
    OPENAI_MAX_TOKENS: int(256, 200_000).default(8192),

    /** Service tokens allowed to submit and read cases: comma-separated `name:sha256hex`. */
    SERVICE_TOKENS: serviceTokens.default([]),
    /** Staff API tokens (reviewers, knowledge-base editors, ops, admins): comma-separated `name:sha256hex:role+role`. */
    STAFF_TOKENS: staffTokens.default([]),
    /** Hosts that callback URLs may target even when they resolve to private or loopback addresses. */
    CALLBACK_HOST_ALLOWLIST: csv.default([]),

    WORKER_CONCURRENCY: int(1, 256).default(8),
    /** BullMQ lock duration: how long a crashed worker holds a job before another takes it over. */
    WORKER_LOCK_MS: int(1000, 10 * 60 * 1000).default(30_000),
    /** How often a case job may lose its worker (lock expired: a crash, a kill) before it counts as failed; guards against jobs that crash every worker they reach. */
    WORKER_MAX_STALLS: int(1, 1000).default(2),
    /** On SIGTERM, how long active jobs may run on before the worker stops waiting for them. */
    SHUTDOWN_GRACE_MS: int(0, 10 * 60 * 1000).default(25_000),
    CASE_JOB_ATTEMPTS: int(1, 20).default(3),
    /** Requests for changes a case may receive before it escalates. */
    MAX_REVISIONS: int(0, 50).default(3),
    /** Language of the plan's patient communication when a submission names none: `en` or `zh-CN`. */
    PLAN_LANGUAGE: PlanLanguage.default('en'),
    /** Keep finished case jobs this long (seconds) for inspection in Bull Board. */
    JOB_RETENTION_SECONDS: int(60, 90 * 24 * 3600).default(7 * 24 * 3600),

    /**
     * The reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDR
     * ranges, e.g. `10.0.0.5,10.1.0.0/16`); unset or `false`: none, the socket's address is the
     * client's. `true` (every hop) is refused: any client could then choose its address.
     */
    TRUST_PROXY: z
      .string()
      .default('false')
      .transform((v) =>
        v.trim().toLowerCase() === 'false'
          ? []
          : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
      )
      .pipe(
        z.array(
          z
            .string()
            .regex(
              /^[0-9a-f.:]+(\/\d{1,3})?$/i,
              'list proxy addresses or CIDR ranges (true, trusting every hop, is refused)',
            ),
        ),
      ),

    /** How long a reviewer's claim lasts without renewal (the review UI renews it while open). */
    REVIEW_LEASE_MS: int(5_000, 24 * 3600 * 1000).default(120_000),
    /** Staff browser sessions: lifetime, and whether the cookie is Secure (HTTPS only; default on in production). */
    SESSION_TTL_SECONDS: int(60, 30 * 24 * 3600).default(8 * 3600),
    /** A staff session ends after this long without activity (HIPAA automatic logoff); the review UI warns first. */
    SESSION_IDLE_SECONDS: int(60, 24 * 3600).default(15 * 60),
    /** HTTPS served by the API, imaging and literature services: PEM certificate (chain) and private key files. */
    TLS_CERT_FILE: z.string().min(1).optional(),
    TLS_KEY_FILE: z.string().min(1).optional(),
    /** Strict-Transport-Security max-age on HTTPS answers (0: not sent). */
    HSTS_MAX_AGE_SECONDS: int(0, 2 * 365 * 24 * 3600).default(365 * 24 * 3600),
    /** Whether staff API tokens may record review decisions; default off in production (a signed-in person decides). */
    STAFF_TOKEN_DECISIONS: bool.optional(),
    COOKIE_SECURE: bool.optional(),
    /** Failed sign-in attempts allowed per account name and client address within the window; then sign-in is refused until it ends. */
    LOGIN_RATE_MAX: int(1, 10_000).default(10),
    LOGIN_RATE_WINDOW_MS: int(1000, 24 * 3600 * 1000).default(10 * 60 * 1000),
    /** Sign-in attempts per account name from any address, and per address over any names, within the window. */
    LOGIN_RATE_MAX_PER_ACCOUNT: int(1, 100_000).default(30),
    LOGIN_RATE_MAX_PER_ADDRESS: int(1, 100_000).default(50),
    /**
     * The key (≥ 32 characters) the API signs recorded review decisions with and the case workers
     * check them with; a worker applies no decision without a valid signature. Required in
     * production; unset elsewhere, decisions are recorded unsigned and trusted as Redis holds them.
     */
    DECISION_SIGNING_KEY: z.string().min(32, 'needs at least 32 characters').optional(),
    /**
     * Keys the audit's hash chain (HMAC-SHA256 per entry): without it the chain is plain SHA-256,
     * which shows accidental edits but can be rebuilt by anyone who can write to Redis. Required
     * in production; every API and worker process and `co audit` hold the same key.
     */
    AUDIT_CHAIN_KEY: z.string().min(32, 'needs at least 32 characters').optional(),
    /**
     * LangSmith tracing, read by LangChain itself from the environment. It would send every model
     * input and output — case text — to LangSmith, so it is refused unless inputs and outputs are
     * hidden (LANGSMITH_HIDE_INPUTS and LANGSMITH_HIDE_OUTPUTS) or the endpoint's host is in
     * TRACING_ENDPOINT_ALLOWLIST (a self-hosted LangSmith inside your boundary).
     */
    LANGSMITH_TRACING: bool.optional(),
    LANGCHAIN_TRACING_V2: bool.optional(),
    LANGSMITH_HIDE_INPUTS: bool.optional(),
    LANGSMITH_HIDE_OUTPUTS: bool.optional(),
    LANGCHAIN_HIDE_INPUTS: bool.optional(),
    LANGCHAIN_HIDE_OUTPUTS: bool.optional(),
    LANGSMITH_ENDPOINT: z.string().url().optional(),
    LANGCHAIN_ENDPOINT: z.string().url().optional(),
    TRACING_ENDPOINT_ALLOWLIST: csv.default([]),
    /**
     * Webhook signing secrets, one per receiving service: `service:secret` entries (comma-separated,
     * secret ≥ 32 characters), the service being the submitting service's token name. A service's
     * plans are signed with its own secrets only, so one receiver cannot forge a plan to another.
     * Two entries for one service during a rotation: each delivery carries a signature per entry.
     * A case with a callback URL is refused at intake when its service has no secret.
     */
    WEBHOOK_SECRETS: csv.pipe(z.array(webhookSecret)).default([]),
    /** Delivery attempts before a webhook is dead-lettered, the first backoff (doubling) and the per-attempt timeout. */
    WEBHOOK_ATTEMPTS: int(1, 50).default(8),
    WEBHOOK_BACKOFF_MS: int(10, 3_600_000).default(2000),
    WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
    DELIVERY_CONCURRENCY: int(1, 256).default(8),
  })
  .superRefine((env, ctx) => {
    if ((env.TLS_CERT_FILE === undefined) !== (env.TLS_KEY_FILE === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [env.TLS_CERT_FILE === undefined ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'],
        message: 'set both TLS_CERT_FILE and TLS_KEY_FILE, or neither',
      });
    const serviceNames = new Set(env.SERVICE_TOKENS.map((t) => t.name));
    const shared = env.STAFF_TOKENS.map((t) => t.name).filter((n) => serviceNames.has(n));
    if (shared.length)
      ctx.addIssue({
        code: 'custom',
        path: ['STAFF_TOKENS'],
        message: `${[...new Set(shared)].join(', ')}: a staff token and a service token share the name; give each identity its own name`,
      });
    if ((env.IMAGING_INDETERMINATE_LOW === undefined) !== (env.IMAGING_INDETERMINATE_HIGH === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [
          env.IMAGING_INDETERMINATE_LOW === undefined ? 'IMAGING_INDETERMINATE_LOW' : 'IMAGING_INDETERMINATE_HIGH',
        ],
        message: 'set both IMAGING_INDETERMINATE_LOW and IMAGING_INDETERMINATE_HIGH, or neither',
      });
    } else if (
      env.IMAGING_INDETERMINATE_LOW !== undefined &&
      env.IMAGING_INDETERMINATE_HIGH !== undefined &&
      env.IMAGING_INDETERMINATE_LOW > env.IMAGING_INDETERMINATE_HIGH
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['IMAGING_INDETERMINATE_LOW'],
        message: 'must not exceed IMAGING_INDETERMINATE_HIGH',
      });
    }
    if (env.LITERATURE_BACKEND === 'postgres' && !env.LITERATURE_DATABASE_URL && !env.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['LITERATURE_DATABASE_URL'],
        message: 'required when LITERATURE_BACKEND=postgres (or set DATABASE_URL)',
      });
    }
    if (env.LANGSMITH_TRACING || env.LANGCHAIN_TRACING_V2) {
      const hidden =
        (env.LANGSMITH_HIDE_INPUTS ?? env.LANGCHAIN_HIDE_INPUTS) &&
        (env.LANGSMITH_HIDE_OUTPUTS ?? env.LANGCHAIN_HIDE_OUTPUTS);
      const endpoint = env.LANGSMITH_ENDPOINT ?? env.LANGCHAIN_ENDPOINT ?? 'https://api.smith.langchain.com';
      const allowed = env.TRACING_ENDPOINT_ALLOWLIST.includes(new URL(endpoint).hostname);
      if (!hidden && !allowed)
        ctx.addIssue({
          code: 'custom',
          path: [env.LANGSMITH_TRACING ? 'LANGSMITH_TRACING' : 'LANGCHAIN_TRACING_V2'],
          message: `tracing would send case text to ${new URL(endpoint).hostname}: set LANGSMITH_HIDE_INPUTS=true and LANGSMITH_HIDE_OUTPUTS=true, or list a self-hosted endpoint's host in TRACING_ENDPOINT_ALLOWLIST`,
        });
    }
    if (env.NODE_ENV === 'production' && !env.DECISION_SIGNING_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['DECISION_SIGNING_KEY'],
        message: 'required in production: case workers apply only review decisions signed with it',
      });
    }
    if (env.NODE_ENV === 'production' && !env.AUDIT_CHAIN_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUDIT_CHAIN_KEY'],
        message: 'required in production: it keys the audit hash chain, so an entry cannot be rewritten without it',
      });
    }
    if (env.OPENAI_MODEL && !env.OPENAI_BASE_URL && !env.OPENAI_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message: 'required when OPENAI_MODEL is set and OPENAI_BASE_URL is not (a local endpoint may omit it)',
      });
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly logLevel: Env['LOG_LEVEL'];
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly maxBodyBytes: number;
    /** Proxies whose X-Forwarded-For is believed (addresses or CIDR ranges); empty: none. */
    readonly trustProxy: readonly string[];
    /** HTTPS served by the process itself (API, imaging, literature); null: plain HTTP behind a TLS proxy. */
    readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
    /** Strict-Transport-Security max-age on HTTPS answers; 0: not sent. */
    readonly hstsMaxAgeSeconds: number;
  };
  readonly redis: { readonly url: string | undefined; readonly keyPrefix: string };
  readonly database: { readonly url: string | undefined; readonly sqlitePath: string };
  /** The knowledge base: its SQLite file (when no DATABASE_URL) and what seeds it when empty (`starter`, a path, or null = nothing). */
  readonly knowledgeBase: {
    readonly sqlitePath: string;
    readonly seed: string | null;
    /** Renal dose checks use an eGFR or creatinine at most this many days before the case. */
    readonly renalWindowDays: number;
  };
  readonly dataDir: string;
  readonly sharedDataDir: string;
  readonly literature: {
    readonly baseUrl: string | undefined;
    readonly apiKey: string | undefined;
    readonly email: string | undefined;
    readonly cacheTtlSeconds: number;
    readonly breaker: { readonly failures: number; readonly halfOpenAfterMs: number };
    readonly corpus: string | undefined;
    readonly indexDir: string;
    /** The local service's index: in memory, or PostgreSQL full-text search on `databaseUrl`. */
    readonly backend: 'memory' | 'postgres';
    readonly databaseUrl: string | undefined;
    readonly port: number;
  };
  readonly imaging: {
    readonly baseUrl: string | undefined;
    readonly modelName: string;
    readonly modelVersion: string | undefined;
    readonly threshold: number | undefined;
    readonly indeterminateBand: readonly [number, number] | undefined;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly breaker: { readonly failures: number; readonly halfOpenAfterMs: number };
    readonly maxImageBytes: number;
    readonly service: { readonly modelDir: string; readonly port: number; readonly maxBatch: number };
    readonly dicomweb: { readonly baseUrl: string; readonly token: string | undefined } | null;
  };
  readonly model:
    | { readonly mode: 'knowledge-driven' }
    | {
        readonly mode: 'llm';
        readonly model: string;
        readonly baseUrl: string | undefined;
        readonly apiKey: string | undefined;
        readonly timeoutMs: number;
        readonly maxRetries: number;
        readonly maxTokens: number;
      };
  readonly auth: {
    readonly serviceTokens: ReadonlyArray<{ readonly name: string; readonly sha256: string }>;
    readonly staffTokens: ReadonlyArray<{
      readonly name: string;
      readonly sha256: string;
      readonly roles: readonly StaffRole[];
    }>;
  };
  readonly callbacks: { readonly hostAllowlist: readonly string[] };
  readonly worker: {
    readonly concurrency: number;
    readonly lockMs: number;
    readonly maxStalls: number;
    readonly shutdownGraceMs: number;
    readonly attempts: number;
    readonly retentionSeconds: number;
  };
  readonly review: {
    readonly maxRevisions: number;
    readonly leaseMs: number;
    /** Signs recorded decisions (API) and checks them (case workers); null: unsigned. */
    readonly signingKey: string | null;
    /** Whether staff API tokens may record review decisions (off in production: a person signs in). */
    readonly tokenDecisions: boolean;
  };
  readonly audit: {
    /** Keys the audit hash chain (HMAC-SHA256); null: plain SHA-256. */
    readonly chainKey: string | null;
  };
  /** Patient-communication language for submissions that name none. */
  readonly planLanguage: PlanLanguage;
  readonly sessions: {
    readonly ttlSeconds: number;
    readonly idleSeconds: number;
    readonly cookieSecure: boolean;
    readonly loginRateLimit: {
      readonly max: number;
      readonly perAccount: number;
      readonly perAddress: number;
      readonly windowMs: number;
    };
  };
  /** Staff accounts: their SQLite file when there is no DATABASE_URL. */
  readonly accounts: { readonly sqlitePath: string };
  readonly delivery: {
    /** Each service's webhook secrets, in configuration order (the first is the current one). */
    readonly secrets: Readonly<Record<string, readonly string[]>>;
    readonly attempts: number;
    readonly backoffMs: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
  };
}

export class ConfigError extends AppError {
  declare readonly code: 'CONFIG_INVALID';
  constructor(readonly problems: ReadonlyArray<{ variable: string; message: string }>) {
    super(
      'CONFIG_INVALID',
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`,
      false,
    );
  }
}

/** A value as an error may show it: the password (and user) of any URL in it replaced with `***`. */
export function withoutCredentials(value: string): string {
  return value.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}

/** The shared corpus used when literature is on by default (LITERATURE_LOCAL=auto). */
export const SHARED_LITERATURE_CORPUS = path.join('pubmedqa', 'corpus.jsonl');

/** The local literature corpus: the configured one, else (auto, no base URL) the shared PubMedQA corpus if it is there. */
function literatureCorpus(
  e: {
    LITERATURE_CORPUS?: string;
    LITERATURE_BASE_URL?: string;
    LITERATURE_LOCAL: 'auto' | 'off';
    SHARED_DATA_DIR: string;
  },
  cwd: string,
): string | undefined {
  if (e.LITERATURE_CORPUS) return path.resolve(cwd, e.LITERATURE_CORPUS);
  if (e.LITERATURE_BASE_URL || e.LITERATURE_LOCAL === 'off') return undefined;
  const shared = path.resolve(cwd, e.SHARED_DATA_DIR, SHARED_LITERATURE_CORPUS);
  return existsSync(shared) ? shared : undefined;
}

/** Parse the environment once. Empty strings count as unset. Throws ConfigError naming each bad variable. */
export function loadConfig(environment: Readonly<Record<string, string | undefined>>, cwd = process.cwd()): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.shape)) {
    const value = environment[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value;
  }
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? '(environment)');
        const shown =
          variable in cleaned && !/KEY|TOKEN|SECRET|PASSWORD/.test(variable)
            ? ` (got ${JSON.stringify(withoutCredentials(cleaned[variable]!))})`
            : '';
        return { variable, message: `${issue.message}${shown}` };
      }),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(cwd, e.DATA_DIR);
  return Object.freeze({
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    http: Object.freeze({
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      maxBodyBytes: e.MAX_BODY_BYTES,
      trustProxy: Object.freeze([...e.TRUST_PROXY]),
      tls:
        e.TLS_CERT_FILE && e.TLS_KEY_FILE
          ? Object.freeze({ certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE })
          : null,
      hstsMaxAgeSeconds: e.HSTS_MAX_AGE_SECONDS,
    }),
    redis: Object.freeze({ url: e.REDIS_URL, keyPrefix: e.KEY_PREFIX }),
    database: Object.freeze({ url: e.DATABASE_URL, sqlitePath: path.join(dataDir, 'clinical-orchestrator.sqlite') }),
    knowledgeBase: Object.freeze({
      sqlitePath: path.join(dataDir, 'knowledge-base.sqlite'),
      seed: e.KB_SEED === 'none' ? null : e.KB_SEED === 'starter' ? 'starter' : path.resolve(cwd, e.KB_SEED),
      renalWindowDays: e.RENAL_RESULT_WINDOW_DAYS,
    }),
    dataDir,
    sharedDataDir: path.resolve(cwd, e.SHARED_DATA_DIR),
    literature: Object.freeze({
      baseUrl: e.LITERATURE_BASE_URL,
      apiKey: e.NCBI_API_KEY,
      email: e.NCBI_EMAIL,
      cacheTtlSeconds: e.LITERATURE_CACHE_TTL_SECONDS,
      breaker: Object.freeze({
        failures: e.LITERATURE_BREAKER_FAILURES,
        halfOpenAfterMs: e.LITERATURE_BREAKER_HALF_OPEN_MS,
      }),
      corpus: literatureCorpus(e, cwd),
      indexDir: path.resolve(cwd, e.LITERATURE_INDEX_DIR ?? path.join(e.DATA_DIR, 'literature-index')),
      backend: e.LITERATURE_BACKEND,
      databaseUrl: e.LITERATURE_BACKEND === 'postgres' ? (e.LITERATURE_DATABASE_URL ?? e.DATABASE_URL) : undefined,
      port: e.LITERATURE_PORT,
    }),
    imaging: Object.freeze({
      baseUrl: e.IMAGING_BASE_URL,
      modelName: e.IMAGING_MODEL_NAME,
      modelVersion: e.IMAGING_MODEL_VERSION,
      threshold: e.IMAGING_THRESHOLD,
      indeterminateBand:
        e.IMAGING_INDETERMINATE_LOW !== undefined && e.IMAGING_INDETERMINATE_HIGH !== undefined
          ? Object.freeze([e.IMAGING_INDETERMINATE_LOW, e.IMAGING_INDETERMINATE_HIGH] as const)
          : undefined,
      timeoutMs: e.IMAGING_TIMEOUT_MS,
      retries: e.IMAGING_RETRIES,
      breaker: Object.freeze({ failures: e.IMAGING_BREAKER_FAILURES, halfOpenAfterMs: e.IMAGING_BREAKER_HALF_OPEN_MS }),
      maxImageBytes: e.IMAGING_MAX_IMAGE_BYTES,
      service: Object.freeze({
        modelDir: path.resolve(cwd, e.IMAGING_MODEL_DIR),
        port: e.IMAGING_PORT,
        maxBatch: e.IMAGING_MAX_BATCH,
      }),
      dicomweb: e.DICOMWEB_BASE_URL ? Object.freeze({ baseUrl: e.DICOMWEB_BASE_URL, token: e.DICOMWEB_TOKEN }) : null,
    }),
    model: e.OPENAI_MODEL
      ? Object.freeze({
          mode: 'llm' as const,
          model: e.OPENAI_MODEL,
          baseUrl: e.OPENAI_BASE_URL,
          apiKey: e.OPENAI_API_KEY,
          timeoutMs: e.OPENAI_TIMEOUT_MS,
          maxRetries: e.OPENAI_MAX_RETRIES,
          maxTokens: e.OPENAI_MAX_TOKENS,
        })
      : Object.freeze({ mode: 'knowledge-driven' as const }),
    auth: Object.freeze({
      serviceTokens: Object.freeze(e.SERVICE_TOKENS.map((t) => Object.freeze(t))),
      staffTokens: Object.freeze(
        e.STAFF_TOKENS.map((t) => Object.freeze({ ...t, roles: Object.freeze([...t.roles]) })),
      ),
    }),
    callbacks: Object.freeze({ hostAllowlist: Object.freeze([...e.CALLBACK_HOST_ALLOWLIST]) }),
    worker: Object.freeze({
      concurrency: e.WORKER_CONCURRENCY,
      lockMs: e.WORKER_LOCK_MS,
      maxStalls: e.WORKER_MAX_STALLS,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      attempts: e.CASE_JOB_ATTEMPTS,
      retentionSeconds: e.JOB_RETENTION_SECONDS,
    }),
    review: Object.freeze({
      maxRevisions: e.MAX_REVISIONS,
      leaseMs: e.REVIEW_LEASE_MS,
      signingKey: e.DECISION_SIGNING_KEY ?? null,
      tokenDecisions: e.STAFF_TOKEN_DECISIONS ?? e.NODE_ENV !== 'production',
    }),
    audit: Object.freeze({ chainKey: e.AUDIT_CHAIN_KEY ?? null }),
    planLanguage: e.PLAN_LANGUAGE,
    sessions: Object.freeze({
      ttlSeconds: e.SESSION_TTL_SECONDS,
      idleSeconds: Math.min(e.SESSION_IDLE_SECONDS, e.SESSION_TTL_SECONDS),
      cookieSecure: e.COOKIE_SECURE ?? e.NODE_ENV === 'production',
      loginRateLimit: Object.freeze({
        max: e.LOGIN_RATE_MAX,
        perAccount: e.LOGIN_RATE_MAX_PER_ACCOUNT,
        perAddress: e.LOGIN_RATE_MAX_PER_ADDRESS,
        windowMs: e.LOGIN_RATE_WINDOW_MS,
      }),
    }),
    accounts: Object.freeze({ sqlitePath: path.join(dataDir, 'accounts.sqlite') }),
    delivery: Object.freeze({
      secrets: Object.freeze(
        e.WEBHOOK_SECRETS.reduce<Record<string, string[]>>((by, { service, secret }) => {
          (by[service] ??= []).push(secret);
          return by;
        }, {}),
      ),
      attempts: e.WEBHOOK_ATTEMPTS,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      concurrency: e.DELIVERY_CONCURRENCY,
    }),
  });
}

/** The Redis URL, or a clear error for entry points that cannot run without one. */
export function requireRedisUrl(config: Config): string {
  if (!config.redis.url) {
    throw new ConfigError([
      {
        variable: 'REDIS_URL',
        message: 'required to run the server or a worker (use `make demo` to start a local Redis automatically)',
      },
    ]);
  }
  return config.redis.url;
}

/**
 * For entry points: the configuration, or exit 2 with the message naming each bad variable.
 * `needsRedis` also requires REDIS_URL.
 */
export function loadConfigOrExit(
  environment: Readonly<Record<string, string | undefined>>,
  options: { needsRedis?: boolean } = {},
): Config {
  try {
    const config = loadConfig(environment);
    if (options.needsRedis) requireRedisUrl(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** The names service and staff tokens use: staff accounts may not take them (one namespace per identity kind). */
export function tokenNames(config: Pick<Config, 'auth'>): string[] {
  return [...config.auth.serviceTokens.map((t) => t.name), ...config.auth.staffTokens.map((t) => t.name)];
}
