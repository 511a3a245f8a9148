/**
 * LLM planner: a model proposes the atomic steps (tool calling, validated by zod). Steps that
 * fail validation (an unknown type, a malformed reference) are dropped and reported; if the
 * answer is unusable after one retry, the knowledge-driven planner takes over and the plan says
 * so. Mandatory safety steps are merged in afterwards by code, whatever the model proposed.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { z } from 'zod';
import type { Planner } from '../domain/agents.js';
import type { MinimisedCase } from '../domain/minimised-case.js';
import { StepType } from '../domain/plan.js';
import { PlanStep } from '../domain/steps.js';
import { knowledgeDrivenPlan } from './knowledge-planner.js';
import { dataBlock, PLANNER_SYSTEM } from './prompts.js';
import { invokeStructured } from './structured.js';

/** What the model is asked for (precise, so the model sees the allowed values). */
const ProposedStep = z.object({
  id: z.string().describe('short unique id, e.g. "lit-af"'),
  type: StepType,
  purpose: z.string(),
  medicationRefs: z.array(z.string()).optional(),
  studyRef: z.string().optional(),
  terms: z.array(z.string()).optional(),
  dependsOn: z.array(z.string()).optional(),
});
/** What is accepted as a whole: the steps are validated one by one below, so one bad step does not sink the others. */
const PlannerAnswer = z.object({ steps: z.array(z.unknown()).min(1).max(60) });

export function llmPlanner(model: BaseChatModel, modelName?: string): Planner {
  return {
    kind: 'llm',
    ...(modelName ? { model: modelName } : {}),
    async plan(view: MinimisedCase, comments) {
      const messages = [
        new SystemMessage(PLANNER_SYSTEM),
        new HumanMessage(
          [
            'Plan the work-up for this case.',
            dataBlock('case_data', view),
            comments.length ? `Reviewer comments on earlier revisions:\n${dataBlock('review_comments', comments)}` : '',
          ].join('\n\n'),
        ),
      ];
      const answer = await invokeStructured(model, messages, {
        name: 'propose_plan',
        description: 'Propose the atomic steps of the case work-up.',
        schema: PlannerAnswer,
        advertised: PlannerAnswer.extend({ steps: z.array(ProposedStep).min(1).max(60) }),
      });
      if (!answer.ok) {
        return {
          steps: knowledgeDrivenPlan(view),
          planner: 'llm-fallback',
          note: `the model's plan was unusable (${answer.error}); the knowledge-driven planner was used`,
        };
      }
      const steps: PlanStep[] = [];
      const dropped: string[] = [];
      answer.value.steps.forEach((raw, i) => {
        const p = ProposedStep.safeParse(raw);
        const step = p.success
          ? PlanStep.safeParse({
              id:
                p.data.id
                  .toLowerCase()
                  .replace(/[^a-z0-9:._-]/g, '-')
                  .slice(0, 80) || `step-${i + 1}`,
              type: p.data.type,
              purpose: p.data.purpose,
              inputs: {
                medicationRefs: p.data.medicationRefs ?? [],
                studyRef: p.data.studyRef ?? null,
                terms: p.data.terms ?? [],
              },
              dependsOn: p.data.dependsOn ?? [],
              mandatory: false,
            })
          : p;
        if (step.success) steps.push(step.data);
        else
          dropped.push(
            `step ${i + 1}: ${step.error.issues[0]?.path.join('.') ?? ''} ${step.error.issues[0]?.message ?? 'invalid'}`,
          );
      });
      if (steps.length === 0) {
        return {
          steps: knowledgeDrivenPlan(view),
          planner: 'llm-fallback',
          note: `every step the model proposed was invalid (${dropped.join('; ')}); the knowledge-driven planner was used`,
        };
      }
      return { steps, planner: 'llm', note: dropped.length ? `dropped invalid steps: ${dropped.join('; ')}` : null };
    },
  };
}
