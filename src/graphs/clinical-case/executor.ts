/**
 * Runs one plan step against its tool, with the call policy (timeout, bounded retries with
 * backoff), and turns the answer into a StepResult with provenance and evidence. Only the
 * PHI-minimised view reaches a tool. A missing or failing tool becomes an "unavailable"
 * result; it never throws.
 */
import type { MinimisedCase } from '../../domain/minimised-case.js';
import { coreDrugName } from '../../clinical/drug-name.js';
import { callTool, DEFAULT_CALL_POLICY, ToolError, type CallPolicy, type ToolOutcome } from '../../tools/common.js';
import type { ImageSource } from '../../domain/imaging.js';
import { ImagingResult, type ImagingClient, type ImagingInput } from '../../tools/imaging/schema.js';
import {
  KbLookupResult,
  MentionsResult,
  RENAL_RESULT_WINDOW_DAYS,
  SafetyCheckResult,
  type KbFact,
  type SafetyCheckInput,
  type SafetyCheckKind,
} from '../../domain/knowledge.js';
import type { KnowledgeBaseClient } from '../../domain/knowledge-client.js';
import { citationEvidence, LiteratureResult, type LiteratureClient } from '../../tools/literature/schema.js';
import { decideRecords, relevanceRequest } from './relevance.js';
import { CareReasoningResult, type CareReasoningInput } from '../../domain/care-reasoning.js';
import type { Evidence, StepType } from '../../domain/plan.js';
import type { PlanStep, StepResult } from '../../domain/steps.js';

export interface ToolBox {
  knowledgeBase: KnowledgeBaseClient | null;
  literature: LiteratureClient | null;
  imaging: ImagingClient | null;
  policy?: CallPolicy;
  now?: () => Date;
  /** How old (days before the case) an eGFR or creatinine may be for the renal dose checks; default RENAL_RESULT_WINDOW_DAYS. */
  renalWindowDays?: number;
}

const CHECK_KIND: Partial<Record<StepType, SafetyCheckKind>> = {
  interaction_check: 'interaction',
  allergy_check: 'allergy',
  dose_check: 'dose',
  contraindication_check: 'contraindication',
  duplicate_therapy_check: 'duplicate_therapy',
  older_adult_check: 'older_adult',
};

const notConfigured = (what: string) => () =>
  Promise.reject(new ToolError('NOT_CONFIGURED', `${what} is not configured`, false));

export const factEvidence = (f: KbFact): Evidence => ({
  id: `kb:${f.id}`,
  kind: 'kb_fact',
  title: f.statement,
  detail: `${f.relation}, version ${f.version}`,
  source: `${f.source.label}: ${f.source.citation}`,
  url: null,
  quote: null,
  level: null,
});

type Lab = MinimisedCase['labs'][number];
/** The equation behind a reported eGFR, by its LOINC code (the code's own name says which). */
const EGFR_METHOD: Record<string, string> = {
  '98979-8': 'CKD-EPI 2021',
  '62238-1': 'CKD-EPI',
  '33914-3': 'MDRD',
  '48642-3': 'MDRD',
  '48643-1': 'MDRD',
};
const isEgfr = (l: Lab) =>
  ['33914-3', '62238-1', '98979-8', '48642-3', '48643-1'].includes(l.loinc ?? '') || /egfr|glomerular/i.test(l.name);
const isCreatinine = (l: Lab) =>
  l.loinc === '2160-0' || l.loinc === '38483-4' || /^(serum |plasma )?creatinine\b/i.test(l.name);
/** The most recent result of a kind with a numeric value (unknown dates last), from the key and the other results. */
const latest = (view: MinimisedCase, test: (l: Lab) => boolean) =>
  [...view.labs, ...view.otherLabs]
    .filter((l) => test(l) && l.value !== null)
    .sort((a, b) => (a.daysBeforeCase ?? Infinity) - (b.daysBeforeCase ?? Infinity))[0] ?? null;

/**
 * The renal markers the dose checks need: the most recent eGFR and creatinine, each with its
 * age in days, and the window beyond which the checks do not use them.
 */
export function renalOf(view: MinimisedCase, windowDays = RENAL_RESULT_WINDOW_DAYS): SafetyCheckInput['renal'] {
  const egfr = latest(view, isEgfr);
  const creat = latest(view, isCreatinine);
  const creatinineMgDl =
    creat?.value == null
      ? null
      : /µmol|umol/i.test(creat.unit ?? '')
        ? Math.round((creat.value / 88.42) * 100) / 100
        : creat.value;
  if (!egfr && creatinineMgDl === null) return null;
  return {
    egfr: egfr?.value ?? null,
    egfrMethod: egfr?.loinc && EGFR_METHOD[egfr.loinc] ? `${EGFR_METHOD[egfr.loinc]}, LOINC ${egfr.loinc}` : null,
    egfrDaysAgo: egfr?.daysBeforeCase ?? null,
    creatinineMgDl,
    creatinineDaysAgo: creat?.daysBeforeCase ?? null,
    windowDays,
  };
}

/** Body weight in kg (LOINC 29463-7 or a result named weight), for Cockcroft–Gault. */
export function weightOf(view: MinimisedCase): number | null {
  const w = latest(view, (l) => l.loinc === '29463-7' || /^body weight$|^weight$/i.test(l.name));
  if (!w?.value) return null;
  const kg = /\[?lb/i.test(w.unit ?? '') ? w.value * 0.45359237 : /^g$/i.test(w.unit ?? '') ? w.value / 1000 : w.value;
  return kg > 0 && kg <= 500 ? Math.round(kg * 10) / 10 : null;
}

/** Allergies that can concern medicines (FHIR category medication, or no category given). */
const drugAllergies = (view: MinimisedCase) =>
  view.allergies
    .filter((a) => !a.category.length || a.category.includes('medication'))
    .filter((a) => !a.status || !/^(inactive|resolved)$/.test(a.status))
    .map((a) => ({ text: a.substance, codes: kbCodes(a.codes) }));

/** The codes the knowledge base can match (it holds no UNII codes). */
export const kbCodes = (codes: MinimisedCase['problems'][number]['codes']) =>
  codes.flatMap((c) => (c.system === 'unii' ? [] : [{ system: c.system, code: c.code }]));

/** The safety-check input for some medications of the view (all when `refs` is empty). */
export function checkInput(
  view: MinimisedCase,
  kind: SafetyCheckKind,
  refs: readonly string[],
  requestedBy: string,
  extraNames: readonly string[] = [],
  renalWindowDays = RENAL_RESULT_WINDOW_DAYS,
): SafetyCheckInput {
  const meds = refs.length ? view.medications.filter((m) => refs.includes(m.ref)) : view.medications;
  return {
    kind,
    medications: [
      ...meds.map((m) => ({
        name: coreDrugName(m.name),
        codes: m.codes,
        dose: m.dose,
        route: m.route,
        frequencyPerDay: m.frequencyPerDay,
      })),
      ...extraNames.map((name) => ({ name: coreDrugName(name), dose: null, route: null, frequencyPerDay: null })),
    ],
    allergies: drugAllergies(view),
    conditions: view.problems.map((p) => ({ text: p.text, codes: kbCodes(p.codes) })),
    renal: renalOf(view, renalWindowDays),
    ageBand: view.patient.age,
    sex: view.patient.sex,
    weightKg: weightOf(view),
    requestedBy,
  };
}

function toResult(
  step: PlanStep,
  outcome: ToolOutcome<unknown>,
  evidence: Evidence[],
  findings: StepResult['findings'] = [],
  unknownTerms: string[] = [],
  reasoning: StepResult['reasoning'] = null,
): StepResult {
  return outcome.status === 'ok'
    ? {
        reasoning,
        literature: null,
        stepId: step.id,
        type: step.type,
        status: 'ok',
        code: null,
        reason: null,
        provenance: outcome.provenance,
        evidence,
        findings,
        unknownTerms,
      }
    : {
        stepId: step.id,
        type: step.type,
        status: 'unavailable',
        code: outcome.code,
        reason: outcome.reason,
        provenance: outcome.provenance,
        evidence: [],
        findings: [],
        unknownTerms: [],
        reasoning: null,
        literature: null,
      };
}

export async function executeStep(
  step: PlanStep,
  view: MinimisedCase,
  tools: ToolBox,
  image: ImageSource | null = null,
): Promise<StepResult> {
  const policy = tools.policy ?? DEFAULT_CALL_POLICY;
  const kb = tools.knowledgeBase;
  switch (step.type) {
    case 'kb_lookup': {
      const outcome: ToolOutcome<KbLookupResult> = await callTool(
        'knowledge-base',
        kb
          ? (signal) => kb.lookup({ terms: step.inputs.terms, requestedBy: step.id }, signal)
          : notConfigured('the knowledge base'),
        policy,
        tools.now,
        KbLookupResult,
      );
      const data = outcome.status === 'ok' ? outcome.data : null;
      return toResult(
        step,
        outcome,
        data ? data.facts.map(factEvidence) : [],
        [],
        data ? data.resolved.filter((r) => r.entity === null).map((r) => r.term) : [],
      );
    }
    case 'literature_search': {
      const lit = tools.literature;
      // The knowledge base's other names for the terms, under its own call policy: a slow or failing
      // knowledge base leaves the terms as written, never the literature step unavailable.
      const synonyms = lit ? await searchSynonyms(step.inputs.terms, tools) : [];
      const outcome: ToolOutcome<LiteratureResult> = await callTool(
        'literature',
        lit
          ? (signal) => lit.search({ intent: step.purpose, terms: step.inputs.terms, synonyms }, signal)
          : notConfigured('literature search'),
        policy,
        tools.now,
        LiteratureResult,
      );
      if (outcome.status !== 'ok') return toResult(step, outcome, []);
      // Only records about the step's concepts are cited (relevance.ts).
      const judged = await judgeLiterature(step, outcome.data.citations, tools);
      const evidence: Evidence[] = judged.kept.map(citationEvidence);
      return {
        ...toResult(step, outcome, evidence),
        literature: {
          found: outcome.data.citations.length,
          checked: judged.checked,
          reason: judged.reason,
          dropped: judged.dropped.slice(0, 50),
        },
      };
    }
    case 'imaging_analysis': {
      const img = tools.imaging;
      const study = view.imaging.find((s) => s.ref === step.inputs.studyRef);
      const input: ImagingInput = {
        studyRef: step.inputs.studyRef ?? '',
        modality: study?.modality ?? null,
        bodySite: study?.bodySite ?? null,
        description: study?.description ?? null,
        image: image ?? { kind: 'none', reason: 'the case gives no image for this study' },
      };
      const outcome: ToolOutcome<ImagingResult> = await callTool(
        'imaging',
        img ? (signal) => img.analyse(input, signal) : notConfigured('the imaging model service'),
        policy,
        tools.now,
        ImagingResult,
      );
      const evidence: Evidence[] =
        outcome.status === 'ok'
          ? outcome.data.findings.map((f) => ({
              id: `img:${outcome.data.studyRef}:${f.id}`,
              kind: 'imaging' as const,
              title: `${f.label}: ${f.interpretation} (score ${f.score.toFixed(2)}, threshold ${f.threshold.toFixed(2)}, indeterminate ${f.indeterminateBand[0]}–${f.indeterminateBand[1]})`,
              detail: outcome.data.preprocessing.length
                ? `Image preparation: ${outcome.data.preprocessing.join(', ')}`
                : null,
              source: `${f.model.name} ${f.model.version}`,
              url: null,
              quote: null,
              level: null,
            }))
          : [];
      return toResult(step, outcome, evidence);
    }
    case 'care_reasoning': {
      const checks = checkInput(view, 'interaction', step.inputs.medicationRefs, step.id, [], tools.renalWindowDays);
      const meds = step.inputs.medicationRefs.length
        ? view.medications.filter((m) => step.inputs.medicationRefs.includes(m.ref))
        : view.medications;
      const input: CareReasoningInput = {
        ...checks,
        medications: checks.medications.map((m, i) => ({
          ...m,
          startedDaysBeforeCase: meds[i]?.startedDaysBeforeCase ?? null,
        })),
      };
      const outcome: ToolOutcome<CareReasoningResult> = await callTool(
        'knowledge-base',
        kb ? (signal) => kb.reason(input, signal) : notConfigured('the knowledge base'),
        policy,
        tools.now,
        CareReasoningResult,
      );
      const data = outcome.status === 'ok' ? outcome.data : null;
      // The findings stay with the check steps that raised them; this step carries the reasoning over them.
      return toResult(step, outcome, data ? data.facts.map(factEvidence) : [], [], [], data);
    }
    default: {
      const kind = CHECK_KIND[step.type]!;
      const input = checkInput(view, kind, step.inputs.medicationRefs, step.id, [], tools.renalWindowDays);
      const outcome: ToolOutcome<SafetyCheckResult> = await callTool(
        'knowledge-base',
        kb ? (signal) => kb.check(input, signal) : notConfigured('the knowledge base'),
        policy,
        tools.now,
        SafetyCheckResult,
      );
      const data = outcome.status === 'ok' ? outcome.data : null;
      return toResult(
        step,
        outcome,
        data ? data.facts.map(factEvidence) : [],
        data?.findings ?? [],
        data?.unknownTerms ?? [],
      );
    }
  }
}

/**
 * Which of a search's records are about the step's concepts, read by the knowledge base. Without
 * the knowledge base (or when it fails) every record is kept and the result says relevance was
 * not checked.
 */
async function judgeLiterature(
  step: PlanStep,
  citations: LiteratureResult['citations'],
  tools: ToolBox,
): Promise<{
  kept: LiteratureResult['citations'];
  dropped: Array<{ pmid: string; reason: string }>;
  checked: boolean;
  reason: string | null;
}> {
  const kb = tools.knowledgeBase;
  const [problem = '', ...drugs] = step.inputs.terms;
  if (!citations.length) return { kept: [], dropped: [], checked: true, reason: null };
  if (!kb || !problem)
    return { kept: citations, dropped: [], checked: false, reason: 'the knowledge base is not configured' };
  const outcome = await callTool(
    'knowledge-base',
    (signal) => kb.mentions(relevanceRequest(problem, drugs, citations), signal),
    tools.policy ?? DEFAULT_CALL_POLICY,
    tools.now,
    MentionsResult,
  );
  if (outcome.status !== 'ok')
    return { kept: citations, dropped: [], checked: false, reason: `the knowledge base failed: ${outcome.reason}` };
  const decisions = decideRecords(
    { problem, requireDrug: step.inputs.medicationRefs.length > 0 },
    citations.map((c) => c.pmid),
    outcome.data,
  );
  const kept: LiteratureResult['citations'] = [];
  const dropped: Array<{ pmid: string; reason: string }> = [];
  let reason: string | null = null;
  for (const c of citations) {
    const d = decisions.get(c.pmid)!;
    if (!d.checked) return { kept: citations, dropped: [], checked: false, reason: d.reason };
    if (d.relevant) kept.push(c);
    else dropped.push({ pmid: c.pmid, reason: d.reason.slice(0, 500) });
    reason = d.relevant ? reason : d.reason;
  }
  return { kept, dropped, checked: true, reason: kept.length ? null : reason };
}

/**
 * The knowledge base's other names for each search term (synonyms, MeSH names, brand names), so
 * "Essential hypertension" also finds records indexed as "Hypertension". Without the knowledge
 * base, or when it fails, the terms are searched as written.
 */
async function searchSynonyms(terms: readonly string[], tools: ToolBox): Promise<string[][]> {
  const kb = tools.knowledgeBase;
  if (!kb || !terms.length) return [];
  const outcome = await callTool(
    'knowledge-base',
    (signal) => kb.lookup({ terms: [...terms], requestedBy: 'literature-synonyms' }, signal),
    tools.policy ?? DEFAULT_CALL_POLICY,
    tools.now,
    KbLookupResult,
  );
  if (outcome.status !== 'ok') return [];
  return outcome.data.resolved.map((r) =>
    r.searchNames.filter((n) => n.toLowerCase() !== r.term.toLowerCase()).slice(0, 8),
  );
}
