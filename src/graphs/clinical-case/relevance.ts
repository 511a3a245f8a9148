/**
 * Relevance, not just rank: a literature step cites a record only when the record is about the
 * step's concepts, decided over knowledge-base entities (never word overlap). The step's first
 * term is its problem; the others are the patient's drugs. A record is read in two parts:
 *
 *   - strong: its title, its conclusions and its MeSH headings (each matched whole, also
 *     inverted, "Diabetes Mellitus, Type 2" → "Type 2 Diabetes Mellitus", so the knowledge base's
 *     names match and "Hypertension, Portal" is not hypertension);
 *   - body: the rest of the abstract.
 *
 * The problem must be named in the strong part (RELEVANCE_THRESHOLD = 'strong', calibrated on
 * eval/literature/relevance.jsonl; 'any' also accepts the body), or in a part the threshold
 * accepts; for a medication question (a step that names medications of the case), one of its
 * drugs or a class above one must be named anywhere in the record; otherwise the drugs only say
 * whether the record also concerns them. Coverage is the support layer's: the concept, something above it (a record on
 * "diabetes" covers type 2 diabetes) or below it.
 */
import type { EvidenceAbout, MentionsInput, MentionsResult, StatementConcept } from '../../domain/knowledge.js';
import { covers } from './support.js';

export type RelevanceThreshold = 'strong' | 'any';
/** Calibrated on the judged set (docs/literature.md#relevance): the problem must be in the title, conclusions or MeSH. */
export const RELEVANCE_THRESHOLD: RelevanceThreshold = 'strong';

/** The two parts of a record the knowledge base reads. */
export function recordParts(r: { title: string; abstract: string | null; mesh: readonly string[] }): {
  strong: string;
  /** MeSH headings and their inverted forms, one a line: each is matched whole. */
  mesh: string;
  body: string;
} {
  const abstract = r.abstract ?? '';
  const at = abstract.search(/\bCONCLUSIONS?( AND (RELEVANCE|IMPLICATIONS))?:/);
  const conclusions = at >= 0 ? abstract.slice(at) : '';
  const body = at >= 0 ? abstract.slice(0, at) : abstract;
  const inverted = r.mesh.map((m) => {
    const [head, ...rest] = m.split(', ');
    return rest.length ? `${rest.reverse().join(' ')} ${head}` : m;
  });
  return { strong: [r.title, conclusions].filter(Boolean).join('. '), mesh: [...r.mesh, ...inverted].join('\n'), body };
}

export interface RelevanceDecision {
  relevant: boolean;
  /** False when the knowledge base does not know the step's problem: relevance could not be decided. */
  checked: boolean;
  /** Where the problem was named: 'strong', 'body' or null; and whether a drug of the step was. */
  problemIn: 'strong' | 'body' | null;
  drugMatched: boolean | null;
  reason: string;
}

const sets = (a: EvidenceAbout) => ({ raw: new Set(a.raw), up: new Set(a.up) });

/** Decide one record for a step whose problem (and drugs) the knowledge base has read. */
export function decideRelevance(
  step: {
    problem: readonly StatementConcept[];
    drugs: readonly StatementConcept[];
    problemText: string;
    /** A medication question (the step names medications of the case): a record must be about one of its drugs too. */
    requireDrug: boolean;
  },
  record: { strong: EvidenceAbout; mesh?: EvidenceAbout; body: EvidenceAbout },
  threshold: RelevanceThreshold = RELEVANCE_THRESHOLD,
): RelevanceDecision {
  const strong = sets({
    id: 'strong',
    raw: [...record.strong.raw, ...(record.mesh?.raw ?? [])],
    up: [...record.strong.up, ...(record.mesh?.up ?? [])],
  });
  const body = sets(record.body);
  const problems = step.problem.filter((c) => c.type === 'condition');
  if (!problems.length)
    return {
      relevant: false,
      checked: false,
      problemIn: null,
      drugMatched: null,
      reason: `the knowledge base does not know “${step.problemText}” as a condition, so relevance could not be checked`,
    };
  const problemIn = problems.some((c) => covers(strong, c))
    ? 'strong'
    : problems.some((c) => covers(body, c))
      ? 'body'
      : null;
  const drugs = step.drugs.filter((c) => c.type === 'medicine');
  const drugMatched = drugs.length ? drugs.some((c) => covers(strong, c) || covers(body, c)) : null;
  const problemOk = problemIn === 'strong' || (threshold === 'any' && problemIn === 'body');
  const relevant = problemOk && (!step.requireDrug || drugMatched !== false);
  const names = problems.map((c) => c.name).join(', ');
  const reason = relevant
    ? `about ${names}${drugMatched ? ` and ${drugs.map((d) => d.name).join(' or ')}` : ''}`
    : !problemIn
      ? `not about ${names}`
      : !problemOk
        ? `mentions ${names} only in passing (not in its title, conclusions or MeSH headings)`
        : `about ${names} but not about ${drugs.map((d) => d.name).join(', ')}`;
  return { relevant, checked: true, problemIn, drugMatched, reason };
}

/** What the knowledge base is asked to read for a step and its records: the step's terms and each record's parts. */
export function relevanceRequest(
  problem: string,
  drugs: readonly string[],
  records: ReadonlyArray<{ pmid: string; title: string; abstract: string | null; mesh: readonly string[] }>,
): MentionsInput {
  return {
    statements: [
      { id: 'problem', text: problem },
      { id: 'drugs', text: drugs.join('; ') || '-' },
    ],
    evidence: records.flatMap((r) => {
      const parts = recordParts(r);
      return [
        { id: `${r.pmid}|strong`, kind: 'text' as const, text: parts.strong.slice(0, 20_000) },
        { id: `${r.pmid}|mesh`, kind: 'terms' as const, text: parts.mesh.slice(0, 20_000) },
        { id: `${r.pmid}|body`, kind: 'text' as const, text: parts.body.slice(0, 20_000) },
      ];
    }),
  };
}

/** The decision for each record, from the knowledge base's reading of relevanceRequest. */
export function decideRecords(
  step: { problem: string; requireDrug: boolean },
  pmids: readonly string[],
  read: MentionsResult,
  threshold: RelevanceThreshold = RELEVANCE_THRESHOLD,
): Map<string, RelevanceDecision> {
  const concepts = new Map(read.statements.map((s) => [s.id, s.concepts]));
  const about = new Map(read.evidence.map((e) => [e.id, e]));
  const none = { id: '', raw: [], up: [] };
  return new Map(
    pmids.map((pmid) => [
      pmid,
      decideRelevance(
        {
          problem: concepts.get('problem') ?? [],
          drugs: concepts.get('drugs') ?? [],
          problemText: step.problem,
          requireDrug: step.requireDrug,
        },
        {
          strong: about.get(`${pmid}|strong`) ?? none,
          mesh: about.get(`${pmid}|mesh`) ?? none,
          body: about.get(`${pmid}|body`) ?? none,
        },
        threshold,
      ),
    ]),
  );
}
