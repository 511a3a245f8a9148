/**
 * LLM drafter: a model writes the plan from the evidence retrieved for this case (tool calling,
 * validated by zod). Verification then checks every citation; an unusable answer falls back to
 * the templated draft, and the label says so.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { PlanSections, type Plan } from '../domain/plan.js';
import type { Drafter, DraftInput } from '../domain/agents.js';
import { dataBlock, DRAFTER_SYSTEM } from './prompts.js';
import { invokeStructured } from './structured.js';
import { templateDraft } from './template-drafter.js';
import { kbCites, reasoningOf } from './care-plan-text.js';

export function llmLabel(modelName: string): string {
  return `LLM draft (model ${modelName}) written from the evidence retrieved for this case; every citation is checked by code. Decision support only, under human review.`;
}

/** The evidence a model may cite: ids with short titles, plus the case record's references. */
export function evidenceForPrompt(input: DraftInput) {
  const evidence = Object.values(input.results).flatMap((r) =>
    r.evidence.map((e) => ({ id: e.id, kind: e.kind, title: e.title, source: e.source })),
  );
  const findings = Object.values(input.results).flatMap((r) =>
    r.findings.map((f) => ({
      kind: f.kind,
      severity: f.severity,
      summary: f.summary,
      management: f.management,
      cite: f.factIds.map((id) => `kb:${id}`),
    })),
  );
  const unavailable = input.steps
    .filter((s) => input.results[s.id]?.status === 'unavailable')
    .map((s) => ({ step: s.id, purpose: s.purpose, reason: input.results[s.id]!.reason }));
  const r = reasoningOf(input);
  // The knowledge base's reasoning: checked alternatives, dose adjustments, monitoring and guidelines, with their citations.
  const reasoning = r
    ? {
        actions: r.actions.map((a) => ({
          finding: a.finding.summary,
          medication: a.medication,
          recommendation: a.text,
          order: a.order,
          alternatives: a.alternatives.map((x) => ({
            name: x.name,
            dose: x.dose,
            passedChecks: x.passed,
            notChecked: x.notChecked.map((n) => n.reason),
            cite: kbCites(x.factIds),
          })),
          ruledOut: a.excluded,
          cite: kbCites(a.factIds),
        })),
        monitoring: r.monitoring.map((m) => ({
          test: m.test,
          medications: m.medications,
          what: m.what,
          cite: kbCites(m.factIds),
        })),
        guidelines: r.guidelines.map((g) => ({ about: g.subject, statement: g.statement, cite: [`kb:${g.factId}`] })),
      }
    : null;
  return { evidence, findings, reasoning, unavailable, patientLanguage: input.language };
}

export function llmDrafter(model: BaseChatModel, modelName: string): Drafter {
  return {
    kind: 'llm',
    async draft(input: DraftInput): Promise<Plan> {
      const messages = [
        new SystemMessage(DRAFTER_SYSTEM),
        new HumanMessage(
          [
            `Draft revision ${input.revision} of the plan.`,
            dataBlock('case_data', input.view),
            dataBlock('evidence_data', evidenceForPrompt(input)),
            input.reviewerComments.length ? dataBlock('review_comments', input.reviewerComments) : '',
          ].join('\n\n'),
        ),
      ];
      const answer = await invokeStructured(model, messages, {
        name: 'write_plan',
        description: 'Write the care plan in five sections, each statement with its citations.',
        schema: PlanSections,
      });
      const template = templateDraft(input);
      if (!answer.ok) {
        return {
          ...template,
          label: `${template.label} (The model's draft was unusable: ${answer.error}.)`,
          provenance: {
            planner: null,
            drafter: {
              source: 'llm-fallback',
              model: modelName,
              reason: `the model's draft was unusable (${answer.error}); the templated draft was used`,
            },
          },
        };
      }
      return {
        revision: input.revision,
        mode: 'llm',
        label: llmLabel(modelName),
        language: input.language,
        sections: answer.value,
        provenance: { planner: null, drafter: { source: 'llm', model: modelName, reason: null } },
        unavailable: template.unavailable,
      };
    },
  };
}
