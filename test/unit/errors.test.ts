/**
 * One error hierarchy: every coded error extends AppError (read from the sources, so a new class
 * beside it fails here), its codes come from the one catalogue, and the edges map them: the HTTP
 * status of each code in the server, UnrecoverableError for non-retryable errors in the workers.
 * Redis being unreachable is recognised from ioredis's and BullMQ's real errors, not message text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ConnectionClosedError, UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { CorpusError } from '../../services/literature/corpus.js';
import { AccountError } from '../../src/auth/accounts.js';
import { ConfigError } from '../../src/config.js';
import { DeliveryError } from '../../src/delivery/webhook.js';
import { CaseValidationError } from '../../src/domain/validation.js';
import {
  AppError,
  CaseIdConflictError,
  describeError,
  ERROR_CODES,
  JobDataInvalidError,
  PipelineStepError,
  RedisUnavailableError,
  type ErrorCode,
} from '../../src/errors.js';
import { DecisionRefusedError } from '../../src/graphs/clinical-case/runtime.js';
import { ImageError } from '../../src/imaging/image.js';
import { ModelLoadError } from '../../src/imaging/model.js';
import { NpyError } from '../../src/imaging/npy.js';
import { PostgresMissingError } from '../../src/infra/postgres-server.js';
import { freePort, RedisServerMissingError } from '../../src/infra/redis-server.js';
import { KbError } from '../../src/knowledge/errors.js';
import { createFailFastRedis, isRedisUnavailable } from '../../src/queues/connection.js';
import { ReviewError } from '../../src/queues/review-queue.js';
import { httpStatus, problemFor } from '../../src/server/problem.js';
import { ToolError } from '../../src/tools/common.js';
import { PubmedFormatError } from '../../src/tools/literature/pubmed-xml.js';
import { QuerySyntaxError } from '../../src/tools/literature/query.js';
import { isPermanent, jobFailure } from '../../workers/job-errors.js';
import { redisUrl } from '../helpers/env.js';

const ALL_CODES: readonly string[] = Object.values(ERROR_CODES).flat();

/** Every class declaration in the production sources: name, base class and file. */
function declaredClasses(): Array<{ name: string; base: string; file: string }> {
  const found: Array<{ name: string; base: string; file: string }> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.[cm]?[jt]s$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const text = readFileSync(full, 'utf8');
        for (const m of text.matchAll(/\bclass\s+(\w+)(?:\s*<[^{]*?>)?\s+extends\s+([\w.]+)/g))
          found.push({ name: m[1]!, base: m[2]!, file: path.relative(process.cwd(), full) });
      }
    }
  };
  for (const root of ['src', 'services', 'workers']) walk(path.resolve(root));
  return found;
}

const isBuiltInError = (name: string) => {
  const value = (globalThis as Record<string, unknown>)[name];
  return typeof value === 'function' && (value === Error || value.prototype instanceof Error);
};

describe('the error hierarchy', () => {
  const classes = declaredClasses();

  it('has no error class beside AppError: only AppError extends Error or another built-in error', () => {
    const beside = classes.filter(
      (c) => isBuiltInError(c.base) && !(c.name === 'AppError' && c.file === path.join('src', 'errors.ts')),
    );
    expect(beside).toEqual([]);
    expect(classes.filter((c) => isBuiltInError(c.base))).toHaveLength(1);
  });

  it('every class named …Error descends from AppError', () => {
    const bases = new Map(classes.map((c) => [c.name, c.base]));
    const outside = classes
      .filter((c) => c.name.endsWith('Error') && c.name !== 'AppError')
      .filter((c) => {
        let base: string | undefined = c.base;
        for (let hops = 0; base && base !== 'AppError' && hops < 10; hops++) base = bases.get(base);
        return base !== 'AppError';
      });
    expect(outside).toEqual([]);
    // The scan does find them (a broken pattern would pass vacuously).
    expect(classes.filter((c) => c.name.endsWith('Error')).length).toBeGreaterThanOrEqual(21);
  });

  const instances: Array<[AppError, ErrorCode, boolean]> = [
    [new AccountError('ACCOUNT_EXISTS', 'taken'), 'ACCOUNT_EXISTS', false],
    [new DecisionRefusedError('not waiting for review'), 'DECISION_REFUSED', false],
    [new DeliveryError('http_5xx', 'the callback answered 503', true, 503), 'DELIVERY_FAILED', true],
    [new DeliveryError('forbidden_address', 'private address', false), 'DELIVERY_FAILED', false],
    [new ReviewError('ALREADY_CLAIMED', 'claimed'), 'ALREADY_CLAIMED', false],
    [new ReviewError('REVIEW_BUSY', 'busy'), 'REVIEW_BUSY', true],
    [new ConfigError([{ variable: 'PORT', message: 'not a number' }]), 'CONFIG_INVALID', false],
    [new NpyError('bad magic'), 'NPY_FORMAT', false],
    [new ModelLoadError('no meta.json'), 'MODEL_LOAD_FAILED', false],
    [new ImageError('IMAGE_TOO_LARGE', 'too large'), 'IMAGE_TOO_LARGE', false],
    [new PubmedFormatError('not PubMed XML'), 'BAD_RESPONSE', false],
    [new QuerySyntaxError('unbalanced parenthesis'), 'QUERY_SYNTAX', false],
    [new CorpusError('no such corpus'), 'CORPUS_INVALID', false],
    [new ToolError('TIMEOUT', 'no answer', true), 'TIMEOUT', true],
    [new KbError('KB_INVALID', 'bad', [{ pointer: '/attrs', message: 'required' }]), 'KB_INVALID', false],
    [new PostgresMissingError('no initdb found'), 'POSTGRES_MISSING', false],
    [new RedisServerMissingError(), 'REDIS_SERVER_MISSING', false],
    [
      new CaseValidationError([{ pointer: '/caseId', code: 'invalid_type', message: 'required' }]),
      'CASE_INVALID',
      false,
    ],
    [new CaseIdConflictError('c-1', 'different-owner'), 'CASE_ID_CONFLICT', false],
    [new JobDataInvalidError('bad job'), 'JOB_DATA_INVALID', false],
    [new PipelineStepError('decompose', 'timed out', true), 'PIPELINE_STEP_FAILED', true],
    [new RedisUnavailableError(), 'REDIS_UNAVAILABLE', true],
  ];

  it.each(instances.map(([err, code, retryable]) => [err.constructor.name, err, code, retryable] as const))(
    '%s is an AppError with its catalogued code and retryability',
    (name, err, code, retryable) => {
      expect(err).toBeInstanceOf(AppError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe(name);
      expect(err.code).toBe(code);
      expect(ALL_CODES).toContain(err.code);
      expect(err.retryable).toBe(retryable);
      expect(describeError(err)).toEqual({ code, message: err.message });
    },
  );

  it('keeps details, PHI-free by contract, and the cause', () => {
    const kb = new KbError('KB_IMPORT_INVALID', 'bad file', [{ pointer: '/0/name', message: 'required' }]);
    expect(kb.details).toEqual([{ pointer: '/0/name', message: 'required' }]);
    expect(new KbError('KB_NOT_FOUND', 'no fact').details).toEqual([]);
    expect(new ToolError('INTERNAL', 'x', false).details).toBeUndefined();
    const cause = new Error('socket closed');
    expect(new ToolError('UNREACHABLE', 'down', true, { cause }).cause).toBe(cause);
    expect('cause' in new ToolError('UNREACHABLE', 'down', true)).toBe(false);
  });

  it('describes any thrown value without more than its code and message', () => {
    expect(describeError(new TypeError('x is undefined'))).toEqual({ code: 'TypeError', message: 'x is undefined' });
    expect(describeError('plain')).toEqual({ code: 'UNKNOWN', message: 'plain' });
    const withDetails = new KbError('KB_INVALID', 'bad', [{ pointer: '/a', message: 'm' }]);
    expect(Object.keys(describeError(withDetails))).toEqual(['code', 'message']);
  });

  it('has no code twice in the catalogue', () => {
    expect(new Set(ALL_CODES).size).toBe(ALL_CODES.length);
  });
});

describe('the HTTP edge: one status per code', () => {
  it('answers each code with the status clients and tests rely on', () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      CASE_INVALID: 400,
      CASE_ID_CONFLICT: 409,
      CASE_NOT_FOUND: 404,
      REDIS_UNAVAILABLE: 503,
      REVIEW_NOT_FOUND: 404,
      ALREADY_CLAIMED: 409,
      ALREADY_DECIDED: 409,
      NOT_CLAIMED: 409,
      LEASE_EXPIRED: 409,
      REVIEW_BUSY: 503,
      NOT_CLAIMABLE: 409,
      ACCOUNT_EXISTS: 409,
      ACCOUNT_NOT_FOUND: 404,
      ACCOUNT_INVALID: 400,
      KB_NOT_FOUND: 404,
      KB_CONFLICT: 409,
      KB_INVALID: 400,
      KB_SELF_REVIEW: 403,
      KB_EDIT_CLOSED: 409,
      KB_STALE_EDIT: 409,
      KB_IMPORT_INVALID: 400,
      INVALID_INPUT: 400,
      BAD_RESPONSE: 502,
      TIMEOUT: 503,
      UNREACHABLE: 503,
      NOT_CONFIGURED: 503,
      CIRCUIT_OPEN: 503,
      INTERNAL: 503,
      IMAGE_EMPTY: 400,
      IMAGE_MALFORMED: 400,
      IMAGE_TOO_LARGE: 413,
      IMAGE_UNSUPPORTED: 415,
    };
    for (const [code, status] of Object.entries(expected))
      expect([code, httpStatus(code as ErrorCode)]).toEqual([code, status]);
  });

  it('gives every catalogued code an error status', () => {
    for (const code of ALL_CODES) {
      const status = httpStatus(code as ErrorCode);
      expect(status >= 400 && status <= 599, `${code}: ${status}`).toBe(true);
    }
  });

  it('builds the problem from the error: status of its code, the code, its message', () => {
    expect(problemFor(new ReviewError('LEASE_EXPIRED', 'your claim expired'), 'Your claim expired')).toEqual({
      type: 'urn:clinical-orchestrator:problem:lease-expired',
      title: 'Your claim expired',
      status: 409,
      code: 'LEASE_EXPIRED',
      detail: 'your claim expired',
    });
    expect(problemFor(new RedisUnavailableError(), 'Service unavailable')).toMatchObject({
      status: 503,
      code: 'REDIS_UNAVAILABLE',
      detail: 'the queue is unreachable; retry later',
    });
  });
});

describe('the worker edge: non-retryable errors fail the job for good', () => {
  it('turns a non-retryable AppError into an UnrecoverableError naming its code', () => {
    for (const err of [
      new KbError('KB_NOT_FOUND', 'no fact f-1'),
      new DecisionRefusedError('case c-1 is not waiting for review'),
      new PipelineStepError('decompose', 'input can never work', false),
      new ToolError('BAD_RESPONSE', 'garbage', false),
    ]) {
      expect(isPermanent(err)).toBe(true);
      const failure = jobFailure(err);
      expect(failure).toBeInstanceOf(UnrecoverableError);
      expect(failure.message).toBe(`${err.code}: ${err.message}`);
    }
    expect(jobFailure(new UnrecoverableError('gone'))).toBeInstanceOf(UnrecoverableError);
  });

  it('throws retryable and uncoded errors as they are, for BullMQ to retry', () => {
    for (const err of [
      new PipelineStepError('decompose', 'planner timed out', true),
      new ReviewError('REVIEW_BUSY', 'busy'),
      new RedisUnavailableError(),
      new TypeError('a bug, perhaps transient'),
    ]) {
      expect(isPermanent(err)).toBe(false);
      expect(jobFailure(err)).toBe(err);
    }
    const wrapped = jobFailure('a string');
    expect(wrapped).toBeInstanceOf(Error);
    expect(wrapped).not.toBeInstanceOf(UnrecoverableError);
  });
});

describe('Redis unavailable is recognised by type', () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('recognises what a fail-fast connection gives while Redis is down (MaxRetriesPerRequestError)', async () => {
    const port = await freePort();
    const redis = createFailFastRedis(`redis://127.0.0.1:${port}`, 'errors-test-down');
    redis.on('error', () => undefined);
    clients.push(redis);
    const err = await redis.get('k').catch((e: unknown) => e);
    expect((err as Error).name).toBe('MaxRetriesPerRequestError');
    expect(isRedisUnavailable(err)).toBe(true);
  });

  it('recognises a command on a closed connection (ioredis and BullMQ)', async () => {
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    await redis.ping();
    redis.disconnect();
    const err = await redis.get('k').catch((e: unknown) => e);
    expect(isRedisUnavailable(err)).toBe(true);
    expect(isRedisUnavailable(new ConnectionClosedError())).toBe(true);
  });

  it('recognises a refused socket by its code', async () => {
    const port = await freePort();
    const err = await new Promise<unknown>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', resolve);
    });
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(isRedisUnavailable(err)).toBe(true);
  });

  it('does not mistake a refused command, another error or message text for Redis being down', async () => {
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    clients.push(redis);
    const reply = await redis.call('NO-SUCH-COMMAND').catch((e: unknown) => e);
    expect((reply as Error).name).toBe('ReplyError');
    expect(isRedisUnavailable(reply)).toBe(false);
    expect(isRedisUnavailable(new Error('upstream said ECONNREFUSED'))).toBe(false);
    expect(isRedisUnavailable(new ToolError('UNREACHABLE', 'connection refused', true))).toBe(false);
    expect(isRedisUnavailable('Connection is closed.')).toBe(false);
    expect(isRedisUnavailable(undefined)).toBe(false);
  });
});
