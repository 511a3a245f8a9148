/**
 * Knowledge-driven drafting: the plan is assembled from templates over the step results only.
 * It states what the knowledge base, the literature and the imaging model returned, and what
 * the knowledge base's care-plan reasoning proposes (checked alternatives, dose adjustments,
 * monitoring, guideline statements), each statement citing the facts it rests on and carrying
 * its chain of reasoning (`why`); patient explanations come from the reviewed templates in
 * ./patient-communication. It says plainly what could not be checked, and it writes no clinical
 * claim that is not a cited fact or reasoning over cited facts.
 */
import { actionMedications, actionText, kbCites, patientTexts, reasoningOf, whyOf } from './care-plan-text.js';
import { clip, literatureConcept } from './knowledge-planner.js';
import type { DraftInput } from '../domain/agents.js';
import type { Evidence, Plan, PlanSections, Recommendation } from '../domain/plan.js';
import { SEVERITY_RANK } from '../domain/plan.js';

export const KNOWLEDGE_DRIVEN_LABEL =
  'Knowledge-driven draft: findings, alternatives, doses and monitoring reasoned from cited knowledge-base facts and worded from reviewed templates, with literature and imaging results; no language model was used. Decision support only, under human review.';

const sentence = (s: string) => (/[.!?]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);

const MAX_STATEMENT = 4000;
const SHORTENED = ' … (shortened; the case record has the full text)';

const days = (d: number | null) => (d === null ? '' : d === 0 ? ' (day of the case)' : ` (${d} days before)`);
const TREND = { up: '↑', down: '↓', unchanged: '→' } as const;

function medicationText(m: DraftInput['view']['medications'][number]): string {
  const dose = m.doseText ?? (m.dose ? `${m.dose.value} ${m.dose.unit}` : null);
  const how = [
    dose,
    m.route,
    m.frequency,
    m.asNeeded ? `as needed${m.asNeededFor ? ` for ${m.asNeededFor}` : ''}` : null,
  ];
  const details = how.filter(Boolean).join(', ');
  return `${m.name}${details ? ` (${details})` : ''}`;
}

function resultText(l: DraftInput['view']['labs'][number]): string {
  const value = (v: number | null, text: string | null, unit: string | null) =>
    `${v ?? text ?? '—'}${unit && v !== null ? ` ${unit}` : ''}`;
  const main = l.components.length
    ? l.components
        .map((c) => `${c.name} ${value(c.value, c.valueText, c.unit)}${c.trend ? ` ${TREND[c.trend]}` : ''}`)
        .join(', ')
    : value(l.value, l.valueText, l.unit);
  const before =
    l.previous && !l.components.length
      ? `, previously ${value(l.previous.value, l.previous.valueText, l.previous.unit)}${days(l.previous.daysBeforeCase)}`
      : '';
  const flag = l.interpretation ? ` [${l.interpretation}]` : '';
  return `${l.name} ${main}${flag}${l.trend ? ` ${TREND[l.trend]}` : ''}${days(l.daysBeforeCase)}${before}`;
}

/** The eGFR and creatinine results the renal dose checks read (the key renal rows other than urea). */
const renalLabs = (view: DraftInput['view']) =>
  view.labs.filter((l) => l.group === 'renal' && !/urea/i.test(l.name) && (l.value !== null || l.valueText));

export function templateDraft(input: DraftInput): Plan {
  const { view, steps, results } = input;
  const sections: PlanSections = {
    assessment: [],
    recommendations: [],
    medicationChanges: [],
    monitoring: [],
    patientCommunication: [],
  };
  let n = 0;
  const add = (
    section: keyof PlanSections,
    text: string,
    citations: string[],
    medications: string[] = [],
    supported = true,
    why: Recommendation['why'] = [],
  ): Recommendation => {
    // A statement is at most 4,000 characters (the plan schema's bound); a case can list more than that.
    const bounded = text.length > MAX_STATEMENT ? `${clip(text, MAX_STATEMENT - SHORTENED.length)}${SHORTENED}` : text;
    const rec: Recommendation = {
      id: `r${++n}`,
      text: bounded,
      citations: [...new Set(citations)],
      medications,
      supported,
      why,
      support: null,
    };
    sections[section].push(rec);
    return rec;
  };
  const medName = (ref: string) => view.medications.find((m) => m.ref === ref)?.name ?? ref;

  // Assessment: a restatement of the case, citing the case record.
  const who = [view.patient.age ? `Age ${view.patient.age}` : null, view.patient.sex].filter(Boolean).join(', ');
  if (view.problems.length)
    add(
      'assessment',
      `${who ? `${who}. ` : ''}Active problems: ${view.problems.map((p) => p.text).join('; ')}.`,
      view.problems.map((p) => `case:${p.ref}`),
    );
  if (view.medications.length) {
    add(
      'assessment',
      `Current medications: ${view.medications.map(medicationText).join('; ')}.`,
      view.medications.map((m) => `case:${m.ref}`),
      view.medications.map((m) => m.name),
    );
  }
  if (view.allergies.length)
    add(
      'assessment',
      `Recorded allergies: ${view.allergies.map((a) => `${a.substance}${a.reactions.length ? ` (${a.reactions.join(', ')})` : ''}`).join('; ')}.`,
      view.allergies.map((a) => `case:${a.ref}`),
    );
  const labs = view.labs.filter((l) => l.value !== null || l.valueText || l.components.length);
  const others = view.counts.tests - labs.length;
  if (labs.length)
    add(
      'assessment',
      `Key results (latest per test): ${labs.map(resultText).join('; ')}.${others > 0 ? ` ${others} other test${others === 1 ? '' : 's'} in the record, not listed here.` : ''}`,
      labs.map((l) => `case:${l.ref}`),
    );
  const renal = renalLabs(view);
  if (renal.length)
    add(
      'assessment',
      `Renal results the dose checks read (each dose finding says whether it was recent enough to use): ${renal.map((l) => `${l.name} ${l.value ?? l.valueText}${l.unit ? ` ${l.unit}` : ''}${days(l.daysBeforeCase)}`).join('; ')}.`,
      renal.map((l) => `case:${l.ref}`),
    );
  for (const c of input.reviewerComments)
    add(
      'assessment',
      `Reviewer comments on revision ${c.revision} (addressed in this revision where the evidence allows): ${c.comments}`,
      [`review:r${c.revision}`],
    );

  // Safety findings from the knowledge base, most severe first.
  const findings = steps.flatMap((s) =>
    results[s.id]?.status === 'ok' ? results[s.id]!.findings.map((f) => ({ f, step: s })) : [],
  );
  const reasoning = reasoningOf(input);
  // The reasoning step re-derives every finding over the whole list: it also sees those no single check step can (a combined dose).
  const shown = new Set(findings.map(({ f }) => `${f.kind}|${f.summary}`));
  for (const f of reasoning?.findings ?? [])
    if (!shown.has(`${f.kind}|${f.summary}`))
      findings.push({ f, step: steps.find((s) => s.type === 'care_reasoning')! });
  findings.sort((a, b) => SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity]);
  const seen = new Set<string>();
  for (const { f } of findings) {
    const key = `${f.kind}|${f.summary}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const citations = f.factIds.map((id) => `kb:${id}`);
    add(
      'medicationChanges',
      `${f.severity.toUpperCase()} ${f.kind.replace('_', ' ')}: ${sentence(f.summary)}${f.management ? ` Knowledge-base management advice: ${sentence(f.management)}` : ''}`,
      citations,
      f.medications,
    );
    for (const a of reasoning?.actions.filter((x) => x.finding.kind === f.kind && x.finding.summary === f.summary) ??
      [])
      add('medicationChanges', actionText(a), kbCites(a.factIds), actionMedications(a), true, whyOf(a));
    if (!reasoning && /monitor|check|measure|recheck/i.test(f.management ?? ''))
      add(
        'monitoring',
        `Monitoring for ${f.medications.join(' + ')}: ${sentence(f.management!)}`,
        citations,
        f.medications,
      );
  }
  if (reasoning) {
    for (const m of reasoning.monitoring)
      add(
        'monitoring',
        m.from === 'monitors'
          ? `Monitor ${m.test} (${m.medications.join(', ')}): ${sentence(m.what)}`
          : `Monitoring for ${m.test}: ${sentence(m.what)}`,
        kbCites(m.factIds),
        m.medications,
      );
    for (const g of reasoning.guidelines)
      add(
        'recommendations',
        `Guideline statement held for ${g.subject}${g.recordedAs && g.recordedAs.toLowerCase() !== g.subject.toLowerCase() ? ` (recorded as “${g.recordedAs}”)` : ''}: ${sentence(g.statement)} (${g.source.split(':')[0]})`,
        [`kb:${g.factId}`],
      );
  }
  const checkedKinds = steps.filter(
    (s) =>
      results[s.id]?.status === 'ok' &&
      s.type !== 'kb_lookup' &&
      s.type !== 'literature_search' &&
      s.type !== 'imaging_analysis',
  );
  if (checkedKinds.length && findings.length === 0) {
    add(
      'medicationChanges',
      'The knowledge-base safety checks that ran found no interaction, allergy, contraindication, dose or duplication issue for the current medications.',
      checkedKinds
        .flatMap((s) => results[s.id]!.evidence.map((e) => e.id))
        .concat(view.medications.map((m) => `case:${m.ref}`)),
    );
  }

  // Literature: what was found, by title, citing the PMIDs.
  for (const s of steps.filter((x) => x.type === 'literature_search')) {
    const r = results[s.id];
    if (r?.status !== 'ok') continue;
    const about = s.inputs.terms[0] ?? s.purpose;
    const lit = r.literature;
    if (r.evidence.length === 0) {
      // A statement about the search for one of the record's problems: it cites that problem.
      const problem = view.problems.find((p) => literatureConcept(p.text) === about || p.text === about);
      add(
        'recommendations',
        lit && lit.found > 0
          ? `Literature for “${about}”: no relevant record in the corpus searched — ${lit.found} record${lit.found === 1 ? '' : 's'} matched the search words, but none is about the step's concepts (${lit.reason ?? 'not about them'}); none is cited.`
          : `Literature for “${about}”: the search found no matching records, so no literature is cited for it.`,
        problem ? [`case:${problem.ref}`] : [],
        [],
        problem !== undefined,
      );
      continue;
    }
    const unchecked = lit && !lit.checked ? ` Relevance was not checked (${lit.reason ?? 'no reason recorded'}).` : '';
    const left =
      lit && lit.dropped.length
        ? ` ${lit.dropped.length} other record${lit.dropped.length === 1 ? ' was' : 's were'} left out as not about it.`
        : '';
    add(
      'recommendations',
      `Literature for “${about}”: ${r.evidence
        .slice(0, 3)
        .map(
          (e: Evidence) => `${e.title || (e.detail ? `“${e.detail}”` : e.id)} — ${e.source || 'source not recorded'}`,
        )
        .join('; ')}. Review these sources before acting.${left}${unchecked}`,
      r.evidence.slice(0, 3).map((e) => e.id),
    );
  }

  // Imaging model findings.
  for (const s of steps.filter((x) => x.type === 'imaging_analysis')) {
    const r = results[s.id];
    if (r?.status !== 'ok') continue;
    for (const e of r.evidence)
      add(
        'recommendations',
        `Imaging model result for ${s.inputs.studyRef} (${e.source}): ${e.title}. Decision support only; the image must be read by a clinician.`,
        [e.id, `case:${s.inputs.studyRef}`],
      );
  }

  // What could not be checked.
  const unavailable = steps
    .filter((s) => results[s.id]?.status === 'unavailable')
    .map((s) => ({
      stepId: s.id,
      type: s.type,
      reason: results[s.id]!.reason ?? 'unavailable',
      code: results[s.id]!.code,
    }));
  for (const u of unavailable) {
    const step = steps.find((s) => s.id === u.stepId)!;
    add(
      'recommendations',
      `NOT CHECKED: ${sentence(step.purpose)} The tool was unavailable (${u.reason}); do this check manually before acting on this plan.`,
      [],
      step.inputs.medicationRefs.map(medName),
      false,
    );
  }

  // Patient communication: one plain-language explanation per proposed change, in the case's language.
  if (reasoning)
    for (const text of patientTexts(reasoning, input.language))
      add('patientCommunication', text.text, kbCites(text.factIds));

  // Patient communication rests on the changes and the record; without either there is nothing to communicate from.
  const talkAbout = sections.medicationChanges
    .flatMap((r) => r.citations)
    .slice(0, 10)
    .concat(
      view.medications.slice(0, 1).map((m) => `case:${m.ref}`),
      view.medications.length ? [] : view.problems.slice(0, 1).map((p) => `case:${p.ref}`),
    );
  if (talkAbout.length)
    add(
      'patientCommunication',
      'Discuss any medication change and its reason with the patient, using the findings above; confirm understanding and agree a review date.',
      talkAbout,
    );

  return {
    revision: input.revision,
    mode: 'knowledge-driven',
    label: KNOWLEDGE_DRIVEN_LABEL,
    language: input.language,
    sections,
    provenance: { planner: null, drafter: { source: 'knowledge-driven', model: null, reason: null } },
    unavailable,
  };
}
