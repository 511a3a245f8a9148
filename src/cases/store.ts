/**
 * Case records in Redis: one hash per case holding ids, status, progress and counts (no PHI).
 *
 * Every write is a single Lua script, so creation is atomic (create-if-absent) and status
 * changes are compare-and-set: a transition only applies from the states it names. That is
 * what makes resubmission idempotent and a redelivered job unable to complete a case twice.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { CaseStatus, INITIAL_STATUS } from '../domain/case-status.js';
import { CasePriority, CaseSummaryCounts, DeliveryState, FindingSeverity, type CaseView } from '../domain/case.js';
import { caseRecordKey } from '../infra/redis-keys.js';

const CREATE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`;

/** ARGV[1] = ",allowed,from,states,"; ARGV[2] = field to increment or ""; ARGV[3..] = field/value pairs. */
const TRANSITION_SCRIPT = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return -1 end
if not string.find(ARGV[1], ',' .. s .. ',', 1, true) then return 0 end
if ARGV[2] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[2], 1) end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
return 1`;

/** ARGV[1] = the status expected ('' = no record); ARGV[2..] = field/value pairs of the whole record. */
const PUT_SCRIPT = `
local s = redis.call('HGET', KEYS[1], 'status') or ''
if s ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1`;

const json = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'stored JSON is corrupt' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const nullableString = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s === '' ? null : s));

/** The stored hash, parsed. Field names match the Redis hash fields. */
export const CaseRecord = z.object({
  caseId: z.string(),
  status: CaseStatus,
  priority: CasePriority,
  submittedBy: z.string(),
  inputDigest: z.string(),
  mode: z.enum(['knowledge-driven', 'llm']),
  hasCallback: z.enum(['0', '1']).transform((v) => v === '1'),
  /** Where the finalized plan is POSTed (a backend service URL, not PHI); null without one. */
  callbackUrl: nullableString,
  pipeline: nullableString,
  currentStep: nullableString,
  completedSteps: json(z.array(z.string())).default([]),
  attempts: z.coerce.number().int().default(0),
  completions: z.coerce.number().int().default(0),
  summary: json(CaseSummaryCounts.nullable()).default(null),
  revision: z.coerce.number().int().default(1),
  maxSeverity: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s === '' ? null : s))
    .pipe(FindingSeverity.nullable()),
  plan: json(z.unknown().nullable()).default(null),
  closedReason: nullableString,
  decidedBy: nullableString,
  decidedAt: nullableString,
  delivery: json(DeliveryState.nullable()).default(null),
  error: json(z.object({ code: z.string(), message: z.string() }).nullable()).default(null),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: nullableString,
});
export type CaseRecord = z.infer<typeof CaseRecord>;

export type NewCaseRecord = Pick<
  CaseRecord,
  'caseId' | 'priority' | 'submittedBy' | 'inputDigest' | 'mode' | 'hasCallback' | 'callbackUrl'
>;

/** Fields a transition may set. Objects are stored as JSON. */
export interface CaseUpdate {
  status?: CaseStatus;
  pipeline?: string;
  currentStep?: string | null;
  completedSteps?: string[];
  summary?: CaseRecord['summary'];
  revision?: number;
  maxSeverity?: CaseRecord['maxSeverity'];
  plan?: unknown;
  closedReason?: string | null;
  decidedBy?: string | null;
  decidedAt?: string | null;
  delivery?: CaseRecord['delivery'];
  error?: CaseRecord['error'];
  completedAt?: string;
}

/** Fields stored as plain strings, where null is stored as the empty string. */
const NULLABLE_STRING_FIELDS = new Set([
  'pipeline',
  'completedAt',
  'currentStep',
  'maxSeverity',
  'closedReason',
  'decidedBy',
  'decidedAt',
  'callbackUrl',
]);

/** A value as stored in the hash: strings as they are, null as '' for plain-string fields, anything else as JSON. */
function encodeValue(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null && NULLABLE_STRING_FIELDS.has(field)) return '';
  return JSON.stringify(value);
}

/** A whole record as hash field/value pairs (the inverse of CaseRecord.parse). */
function encode(record: CaseRecord): string[] {
  return Object.entries(record).flatMap(([field, value]) =>
    field === 'hasCallback'
      ? [field, value ? '1' : '0']
      : field === 'callbackUrl' && value === null
        ? []
        : [field, typeof value === 'number' ? String(value) : encodeValue(field, value)],
  );
}

export type TransitionResult = 'applied' | 'wrong-state' | 'missing';

interface CaseScripts {
  coCaseCreate(key: string, ...args: string[]): Promise<number>;
  coCasePut(key: string, ...args: string[]): Promise<number>;
  coCaseTransition(key: string, ...args: string[]): Promise<number>;
}

export class CaseStore {
  private readonly scripts: CaseScripts;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    // defineCommand runs the scripts by SHA (EVALSHA) and reloads them after a Redis restart.
    if (!('coCaseCreate' in redis)) redis.defineCommand('coCaseCreate', { numberOfKeys: 1, lua: CREATE_SCRIPT });
    if (!('coCasePut' in redis)) redis.defineCommand('coCasePut', { numberOfKeys: 1, lua: PUT_SCRIPT });
    if (!('coCaseTransition' in redis))
      redis.defineCommand('coCaseTransition', { numberOfKeys: 1, lua: TRANSITION_SCRIPT });
    this.scripts = redis as unknown as CaseScripts;
  }

  key(caseId: string): string {
    return caseRecordKey(this.keyPrefix, caseId);
  }

  /** The record as `create` writes it, with the given status. */
  initialRecord(
    input: NewCaseRecord,
    status: CaseRecord['status'] = INITIAL_STATUS,
    at = this.now().toISOString(),
  ): CaseRecord {
    return {
      ...input,
      status,
      pipeline: null,
      currentStep: null,
      completedSteps: [],
      attempts: 0,
      completions: 0,
      summary: null,
      revision: 1,
      maxSeverity: null,
      plan: null,
      closedReason: null,
      decidedBy: null,
      decidedAt: null,
      delivery: null,
      error: null,
      createdAt: at,
      updatedAt: at,
      completedAt: null,
    };
  }

  /** Create the record in the lifecycle's initial status (`accepted`) unless one exists. Returns whether it was created. */
  async create(input: NewCaseRecord): Promise<boolean> {
    const created = await this.scripts.coCaseCreate(this.key(input.caseId), ...encode(this.initialRecord(input)));
    return created === 1;
  }

  /**
   * Replace the whole record, only if its status is still `found` (null: only if there is no
   * record). Used by recovery after Redis data loss; returns whether it wrote.
   */
  async put(record: CaseRecord, found: CaseRecord['status'] | null): Promise<boolean> {
    return (await this.scripts.coCasePut(this.key(record.caseId), found ?? '', ...encode(record))) === 1;
  }

  async get(caseId: string): Promise<CaseRecord | null> {
    const hash = await this.redis.hgetall(this.key(caseId));
    if (Object.keys(hash).length === 0) return null;
    return CaseRecord.parse(hash);
  }

  /**
   * Apply `update` only when the current status is one of `from`. `increment` names a counter
   * (`attempts` or `completions`) to bump in the same atomic step.
   */
  async transition(
    caseId: string,
    from: readonly CaseRecord['status'][],
    update: CaseUpdate,
    increment: 'attempts' | 'completions' | '' = '',
  ): Promise<TransitionResult> {
    const pairs: string[] = ['updatedAt', this.now().toISOString()];
    for (const [field, value] of Object.entries(update) as [keyof CaseUpdate, CaseUpdate[keyof CaseUpdate]][]) {
      if (value === undefined) continue;
      pairs.push(field, encodeValue(field, value));
    }
    const result = await this.scripts.coCaseTransition(this.key(caseId), `,${from.join(',')},`, increment, ...pairs);
    return result === 1 ? 'applied' : result === 0 ? 'wrong-state' : 'missing';
  }

  async delete(caseId: string): Promise<void> {
    await this.redis.del(this.key(caseId));
  }
}

/** The public, PHI-free view of a record. */
export function toCaseView(record: CaseRecord): CaseView {
  return {
    caseId: record.caseId,
    status: record.status,
    priority: record.priority,
    currentStep: record.currentStep,
    completedSteps: record.completedSteps,
    attempts: record.attempts,
    mode: record.mode,
    pipeline: record.pipeline,
    summary: record.summary,
    revision: record.revision,
    maxSeverity: record.maxSeverity,
    plan: record.status === 'approved' ? record.plan : null,
    closedReason: record.closedReason,
    decidedBy: record.decidedBy,
    decidedAt: record.decidedAt,
    delivery: record.delivery,
    error: record.error,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    completedAt: record.completedAt,
  };
}
