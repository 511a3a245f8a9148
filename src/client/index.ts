/**
 * A small typed HTTP client for the clinical-orchestrator API: what a backend service needs to
 * submit and follow its cases, and what a scripted reviewer needs to work the review queue.
 *
 *   const client = new ClinicalOrchestratorClient({ baseUrl: 'https://co.example', token });
 *   const { case: view } = await client.submitCase(submission);
 *   await client.waitForStatus(view.caseId, ['approved', 'rejected', 'escalated', 'failed']);
 *
 * Every response is parsed with the zod schema the server answers with (src/domain); every
 * error response (`application/problem+json`) rejects with an ApiError carrying the HTTP status
 * and the problem's stable code (`problemCode`). It depends on nothing but those schemas, the
 * error hierarchy (src/errors.ts), zod and `fetch`.
 */
import type { z } from 'zod';
import { AppError, type ErrorCodeOf } from '../errors.js';
import type { CaseStatus } from '../domain/case-status.js';
import { CaseView, type CaseSubmissionInput } from '../domain/case.js';
import { ProblemDetails } from '../domain/problem.js';
import {
  CaseAudit,
  ClaimView,
  DecisionResponse,
  ReviewCase,
  ReviewDetail,
  ReviewList,
  type DecisionInput,
} from '../domain/review.js';

export interface ClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** A service token (cases) or a staff token with the reviewer role (reviews), sent as `Authorization: Bearer`. */
  token: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Abort each request after this many milliseconds (default: no limit). */
  timeoutMs?: number;
}

/**
 * Anything that went wrong talking to the API: the API could not be reached or timed out
 * (CLIENT_UNREACHABLE, worth another attempt), or answered with something that is not what the
 * API promises (CLIENT_BAD_RESPONSE). Part of the code base's one error hierarchy (AppError).
 */
export class ClientError extends AppError {
  constructor(code: ErrorCodeOf<'client'>, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(code, message, retryable, options);
  }
}

/**
 * The API answered with an error status (code API_ERROR). `problemCode` is the problem's stable
 * code (null when the body was not problem details); server errors and 429 are retryable.
 */
export class ApiError extends ClientError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly problem: ProblemDetails | null,
  ) {
    super(
      'API_ERROR',
      `${method} ${path} answered ${status}${problem ? ` ${problem.code}: ${problem.detail ?? problem.title}` : ''}`,
      status >= 500 || status === 429,
    );
  }
  get problemCode(): string | null {
    return this.problem?.code ?? null;
  }
}

/** waitForStatus gave up: the case did not reach one of the statuses in time. `last` is the last view read. */
export class WaitTimeoutError extends ClientError {
  override readonly name = 'WaitTimeoutError';
  constructor(
    readonly caseId: string,
    readonly statuses: readonly CaseStatus[],
    readonly last: CaseView,
    timeoutMs: number,
  ) {
    super(
      'WAIT_TIMEOUT',
      `case ${caseId} did not reach ${statuses.join(' or ')} within ${timeoutMs} ms (last: ${last.status})`,
      true,
    );
  }
}

export interface WaitOptions {
  /** Give up after this many milliseconds (default 60 000). */
  timeoutMs?: number;
  /** Time between polls in milliseconds (default 200). */
  intervalMs?: number;
  /** Also wait until the case reaches this revision (default 1). */
  minRevision?: number;
  /** Called with the case view whenever it changed since the previous poll (and with the first one). */
  onProgress?: (view: CaseView) => void;
}

export interface Submitted {
  /** True when the case was new and enqueued (202); false for a resubmission of the same case (200). */
  created: boolean;
  case: CaseView;
}

const item = (caseId: string, revision: number) => `/v1/reviews/${encodeURIComponent(caseId)}/revisions/${revision}`;

export class ClinicalOrchestratorClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** `POST /v1/cases`: submit a case (service token). Resubmitting the same case is idempotent. */
  async submitCase(submission: CaseSubmissionInput): Promise<Submitted> {
    const { status, body } = await this.call('POST', '/v1/cases', submission);
    return { created: status === 202, case: this.parse(CaseView, body, 'POST', '/v1/cases') };
  }

  /** `GET /v1/cases/:id`: the case view (service token; only the service's own cases). */
  getCase(caseId: string): Promise<CaseView> {
    return this.get(CaseView, `/v1/cases/${encodeURIComponent(caseId)}`);
  }

  /** Poll `GET /v1/cases/:id` until the case has one of `statuses` (and at least `minRevision`). */
  async waitForStatus(caseId: string, statuses: readonly CaseStatus[], options: WaitOptions = {}): Promise<CaseView> {
    const { timeoutMs = 60_000, intervalMs = 200, minRevision = 1, onProgress } = options;
    const deadline = Date.now() + timeoutMs;
    let seen: string | null = null;
    for (;;) {
      const view = await this.getCase(caseId);
      if (view.updatedAt !== seen) {
        seen = view.updatedAt;
        onProgress?.(view);
      }
      if (statuses.includes(view.status) && view.revision >= minRevision) return view;
      if (Date.now() >= deadline) throw new WaitTimeoutError(caseId, statuses, view, timeoutMs);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** `GET /v1/cases/:id/audit`: the case's audit log, oldest first (service for its own cases, reviewer, ops). */
  getAudit(caseId: string): Promise<CaseAudit> {
    return this.get(CaseAudit, `/v1/cases/${encodeURIComponent(caseId)}/audit`);
  }

  /** `GET /v1/reviews`: the review queue in serving order (reviewer). */
  listReviews(): Promise<ReviewList> {
    return this.get(ReviewList, '/v1/reviews');
  }

  /** `POST /v1/reviews/claim`: claim the next item; null when nothing waits (reviewer). */
  async claimNextReview(): Promise<ClaimView | null> {
    const { status, body } = await this.call('POST', '/v1/reviews/claim');
    return status === 204 ? null : this.parse(ClaimView, body, 'POST', '/v1/reviews/claim');
  }

  /** `POST /v1/reviews/:caseId/revisions/:revision/claim`: claim that item (your lease back if you hold it). */
  claimReview(caseId: string, revision: number): Promise<ClaimView> {
    return this.post(ClaimView, `${item(caseId, revision)}/claim`);
  }

  /** `POST …/lease`: renew your lease on an item you hold. */
  renewLease(caseId: string, revision: number): Promise<ClaimView> {
    return this.post(ClaimView, `${item(caseId, revision)}/lease`);
  }

  /** `POST …/release`: give an item you hold back to the queue. */
  async releaseReview(caseId: string, revision: number): Promise<void> {
    await this.call('POST', `${item(caseId, revision)}/release`);
  }

  /** `GET /v1/reviews/:caseId/revisions/:revision`: the plan, evidence, findings, diff, your claim and the decision. */
  getReview(caseId: string, revision: number): Promise<ReviewDetail> {
    return this.get(ReviewDetail, item(caseId, revision));
  }

  /** `GET /v1/reviews/:caseId`: the case view, every decision and the audit trail (reviewer). */
  getReviewCase(caseId: string): Promise<ReviewCase> {
    return this.get(ReviewCase, `/v1/reviews/${encodeURIComponent(caseId)}`);
  }

  /** `POST …/decision`: approve, edit, request changes or reject an item you hold. */
  decide(caseId: string, revision: number, decision: z.input<typeof DecisionInput>): Promise<DecisionResponse> {
    return this.post(DecisionResponse, `${item(caseId, revision)}/decision`, decision);
  }

  private async get<S extends z.ZodType>(schema: S, path: string): Promise<z.output<S>> {
    return this.parse(schema, (await this.call('GET', path)).body, 'GET', path);
  }

  private async post<S extends z.ZodType>(schema: S, path: string, body?: unknown): Promise<z.output<S>> {
    return this.parse(schema, (await this.call('POST', path, body)).body, 'POST', path);
  }

  /** One request: the status and parsed JSON body of a 2xx answer; an ApiError for any other. */
  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(this.options.timeoutMs !== undefined ? { signal: AbortSignal.timeout(this.options.timeoutMs) } : {}),
      });
    } catch (err) {
      throw new ClientError(
        'CLIENT_UNREACHABLE',
        `${method} ${path} failed: ${err instanceof Error ? err.message : String(err)}`,
        true,
        { cause: err },
      );
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      if (res.ok) {
        throw new ClientError(
          'CLIENT_BAD_RESPONSE',
          `${method} ${path} answered ${res.status} with a body that is not JSON`,
          false,
        );
      }
    }
    if (!res.ok) {
      const problem = ProblemDetails.safeParse(json);
      throw new ApiError(method, path, res.status, problem.success ? problem.data : null);
    }
    return { status: res.status, body: json };
  }

  private parse<S extends z.ZodType>(schema: S, body: unknown, method: string, path: string): z.output<S> {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ClientError(
        'CLIENT_BAD_RESPONSE',
        `${method} ${path}: the answer does not match the API's schema (${parsed.error.issues[0]?.message ?? 'invalid'})`,
        false,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }
}
