/**
 * What every tool call returns: either data with provenance, or an explicit "unavailable"
 * with the reason. A failing tool never vanishes and never crashes a case: the draft shows it.
 */
import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { z } from 'zod';
import { Provenance, ToolFailureCode } from '../domain/provenance.js';
import { AppError } from '../errors.js';

export const toolOutcome = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('status', [
    z.object({ status: z.literal('ok'), data, provenance: Provenance }),
    z.object({ status: z.literal('unavailable'), code: ToolFailureCode, reason: z.string(), provenance: Provenance }),
  ]);

export type ToolOutcome<T> =
  | { status: 'ok'; data: T; provenance: Provenance }
  | { status: 'unavailable'; code: ToolFailureCode; reason: string; provenance: Provenance };

/** A coded tool error; `retryable` says whether another attempt can help. */
export class ToolError extends AppError {
  declare readonly code: ToolFailureCode;
  constructor(code: ToolFailureCode, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(code, message, retryable, options);
  }
}

export interface CallPolicy {
  timeoutMs: number;
  /** Further attempts after the first. */
  retries: number;
  backoffMs: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = { timeoutMs: 10_000, retries: 2, backoffMs: 250 };

/**
 * Run `fn` with a timeout per attempt and bounded retries with exponential backoff. Never
 * throws: failures become an "unavailable" outcome with the last error's code. With `schema`,
 * the answer is validated too: a tool that answers garbage is BAD_RESPONSE (not retried), never
 * data the graph trusts.
 */
export async function callTool<T>(
  source: string,
  fn: (signal: AbortSignal) => Promise<{ data: T; version: string | null }>,
  policy: CallPolicy = DEFAULT_CALL_POLICY,
  now: () => Date = () => new Date(),
  schema?: z.ZodType<T>,
): Promise<ToolOutcome<T>> {
  const started = performance.now();
  let attempts = 0;
  let last: ToolError = new ToolError('INTERNAL', 'not attempted', false);
  while (attempts <= policy.retries) {
    attempts += 1;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new ToolError('TIMEOUT', `no answer within ${policy.timeoutMs} ms`, true));
        }, policy.timeoutMs);
      });
      const answer = await Promise.race([fn(controller.signal), timeout]);
      const { data, version } = schema ? checkAnswer(source, answer, schema) : answer;
      return {
        status: 'ok',
        data,
        provenance: {
          source,
          version,
          retrievedAt: now().toISOString(),
          attempts,
          durationMs: Math.round(performance.now() - started),
        },
      };
    } catch (err) {
      last =
        err instanceof ToolError
          ? err
          : new ToolError('INTERNAL', err instanceof Error ? err.message : String(err), true, { cause: err });
      if (!last.retryable) break;
    } finally {
      clearTimeout(timer);
    }
    if (attempts <= policy.retries) await new Promise((r) => setTimeout(r, policy.backoffMs * 2 ** (attempts - 1)));
  }
  return {
    status: 'unavailable',
    code: last.code,
    reason: last.message,
    provenance: {
      source,
      version: null,
      retrievedAt: now().toISOString(),
      attempts,
      durationMs: Math.round(performance.now() - started),
    },
  };
}

function checkAnswer<T>(source: string, answer: unknown, schema: z.ZodType<T>): { data: T; version: string | null } {
  const shape = z.object({ data: z.unknown(), version: z.string().nullable() }).safeParse(answer);
  const parsed = shape.success ? schema.safeParse(shape.data.data) : null;
  if (!shape.success || !parsed?.success) {
    const issue = shape.success ? parsed?.error?.issues[0] : shape.error.issues[0];
    throw new ToolError(
      'BAD_RESPONSE',
      `${source} answered data of the wrong shape${issue ? ` (${issue.path.join('.') || 'root'}: ${issue.message})` : ''}`,
      false,
    );
  }
  return { data: parsed.data, version: shape.data.version };
}

/**
 * For LangChain tool wrappers: run a client call and answer JSON, `{status: 'ok', version, data}`
 * or a coded error object — never a throw and never prose, so a model sees a stable shape.
 */
export async function toolJson(
  fn: (signal: AbortSignal) => Promise<{ data: unknown; version: string | null }>,
  signal: AbortSignal = new AbortController().signal,
): Promise<string> {
  try {
    const { data, version } = await fn(signal);
    return JSON.stringify({ status: 'ok', version, data });
  } catch (err) {
    const e =
      err instanceof ToolError
        ? err
        : new ToolError('INTERNAL', err instanceof Error ? err.message : String(err), false);
    return JSON.stringify({ status: 'error', code: e.code, message: e.message });
  }
}

export interface BreakerOptions {
  /** Consecutive retryable failures that open the breaker. */
  failures: number;
  /** How long it stays open before one trial call. */
  halfOpenAfterMs: number;
}

/**
 * A circuit breaker for calls to one remote service: after `failures` consecutive retryable
 * failures, calls fail at once with CIRCUIT_OPEN (not retryable) until a trial call after
 * `halfOpenAfterMs` succeeds. Input errors (not retryable) do not count.
 */
export function serviceBreaker(
  service: string,
  o: BreakerOptions,
): { policy: CircuitBreakerPolicy; run<T>(fn: () => Promise<T>): Promise<T> } {
  const policy = circuitBreaker(
    handleWhen((err) => err instanceof ToolError && err.retryable),
    { halfOpenAfter: o.halfOpenAfterMs, breaker: new ConsecutiveBreaker(o.failures) },
  );
  return {
    policy,
    async run(fn) {
      try {
        return await policy.execute(fn);
      } catch (err) {
        if (err instanceof BrokenCircuitError)
          throw new ToolError(
            'CIRCUIT_OPEN',
            `${service}: circuit open after ${o.failures} consecutive failures; next trial in ≤ ${o.halfOpenAfterMs} ms`,
            false,
          );
        throw err;
      }
    },
  };
}
