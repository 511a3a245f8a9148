/**
 * What a case worker runs for one case: named steps in order. Each step is idempotent (it
 * may run again after a crash or a redelivered job) and reports its result into the shared
 * result object. The worker records progress between steps.
 */
import type { CaseJobData, CaseView } from '../domain/case.js';
import type { Logger } from '../logger.js';

export interface PipelineContext {
  readonly caseId: string;
  readonly data: CaseJobData;
  /** Aborted when the worker is shutting down past its grace period. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

export interface PipelineResult {
  summary: CaseView['summary'];
}

export interface PipelineStep {
  readonly name: string;
  run(ctx: PipelineContext, result: PipelineResult): Promise<void>;
}

export interface CasePipeline {
  /** Recorded on the case, so a reader knows which pipeline produced its state. */
  readonly name: string;
  readonly steps: readonly PipelineStep[];
  /** The status a case ends in when every step has run. */
  readonly finalStatus: 'intake_complete';
}
