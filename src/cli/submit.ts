/**
 * `co case submit`: send a case file to a running API with the typed client (src/client) and,
 * with --wait, follow it until it waits for review (or closes, or fails), printing each change
 * of status or current step on stderr.
 */
import { ApiError, ClientError, ClinicalOrchestratorClient, WaitTimeoutError } from '../client/index.js';
import type { CaseStatus } from '../domain/case-status.js';
import type { CaseView } from '../domain/case.js';
import type { CaseFile } from './case-input.js';
import { CliError, EXIT, failure, invalidInput } from './errors.js';
import type { CaseSubmitResult } from './output.js';

/** Where --wait stops: the case waits for a human, or is over. */
export const WAIT_STATUSES: readonly CaseStatus[] = ['awaiting_review', 'approved', 'rejected', 'escalated', 'failed'];

export interface SubmitOptions {
  baseUrl: string;
  token: string;
  wait: boolean;
  timeoutMs: number;
  onProgress?: (line: string) => void;
}

function progressOf(view: CaseView): string {
  const step = view.currentStep ? `, step ${view.currentStep}` : '';
  return `co: case ${view.caseId}: ${view.status}${step} (${view.completedSteps.length} steps done)`;
}

/** The client's errors as the CLI reports them: a refused case is invalid input (2), anything else a failure (1). */
function cliErrorOf(err: unknown): unknown {
  if (err instanceof ApiError) {
    const code = err.problemCode ?? `HTTP_${err.status}`;
    const issues = err.problem?.errors ?? [];
    return err.status === 400 || err.status === 413 || err.status === 422
      ? invalidInput(code, `the API refused the case: ${err.message}`, issues)
      : new CliError(code, err.message, EXIT.failure);
  }
  if (err instanceof WaitTimeoutError) return failure(err.code, err.message);
  if (err instanceof ClientError) return failure(err.code, err.message);
  return err;
}

export async function submitCase(caseFile: CaseFile, options: SubmitOptions): Promise<CaseSubmitResult> {
  const client = new ClinicalOrchestratorClient({ baseUrl: options.baseUrl, token: options.token, timeoutMs: 30_000 });
  try {
    const submitted = await client.submitCase(caseFile.input);
    let view = submitted.case;
    options.onProgress?.(
      `co: case ${view.caseId} ${submitted.created ? 'submitted' : 'already known (not submitted again)'} to ${options.baseUrl}`,
    );
    if (options.wait) {
      let last = '';
      view = await client.waitForStatus(view.caseId, WAIT_STATUSES, {
        timeoutMs: options.timeoutMs,
        intervalMs: 250,
        onProgress: (v) => {
          const line = progressOf(v);
          if (line !== last) options.onProgress?.(line);
          last = line;
        },
      });
    }
    return { baseUrl: options.baseUrl, created: submitted.created, case: view };
  } catch (err) {
    throw cliErrorOf(err);
  }
}
