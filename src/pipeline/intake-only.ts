/**
 * The foundation pipeline: validate and summarise the case, then stop at `intake_complete`.
 * It is replaced by the clinical-case graph (plan, execute, draft, verify, review).
 */
import { summariseCase } from '../domain/case-summary.js';
import type { CasePipeline, PipelineStep } from './types.js';

export const summariseStep: PipelineStep = {
  name: 'summarise',
  run(ctx, result) {
    result.summary = summariseCase(ctx.data.submission);
    return Promise.resolve();
  },
};

export function intakeOnlyPipeline(extraSteps: readonly PipelineStep[] = []): CasePipeline {
  return { name: 'intake-only', steps: [summariseStep, ...extraSteps], finalStatus: 'intake_complete' };
}
