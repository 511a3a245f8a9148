/**
 * The knowledge base's contract, shared by the knowledge subsystem (`src/knowledge`), its tool
 * (`src/tools/knowledge-base`) and the graph: normalise terms to canonical entities, and run
 * drug-safety checks. Facts carry provenance; findings name the fact ids they rest on. The graph
 * depends only on this contract, never on the store or the checks.
 */
import { z } from 'zod';
import { Severity } from './plan.js';

export const EntityType = z.enum(['ingredient', 'product', 'drug_class', 'condition', 'lab_test', 'allergen_class']);

export const KbEntity = z.object({ id: z.string(), type: EntityType, name: z.string() });
export type KbEntity = z.infer<typeof KbEntity>;

export const KbFact = z.object({
  /** Stable fact id, cited as `kb:<id>`. */
  id: z.string(),
  relation: z.string(),
  /** Entity ids the fact connects (object null for attribute-like facts such as dose ranges). */
  subject: z.string(),
  object: z.string().nullable(),
  /** A readable sentence generated from the relation and its attributes. */
  statement: z.string(),
  source: z.object({ label: z.string(), citation: z.string(), url: z.string().nullable() }),
  addedBy: z.string(),
  addedAt: z.string(),
  version: z.number().int(),
  status: z.enum(['active', 'proposed', 'retired']),
});
export type KbFact = z.infer<typeof KbFact>;

export const KbLookupInput = z.object({
  terms: z.array(z.string().min(1).max(200)).min(1).max(100),
  requestedBy: z.string().max(100).default('unspecified'),
});
export type KbLookupInput = z.input<typeof KbLookupInput>;
export const KbLookupResult = z.object({
  /** One entry per input term; `entity` is null for unknown terms (never guessed). */
  resolved: z.array(
    z.object({
      term: z.string(),
      entity: KbEntity.nullable(),
      /** Names to search the literature by: the entity's name, its synonyms and MeSH names, brand names (no lay words, misspellings or short abbreviations). */
      searchNames: z.array(z.string()).default([]),
    }),
  ),
  facts: z.array(KbFact),
});
export type KbLookupResult = z.infer<typeof KbLookupResult>;

export const SafetyCheckKind = z.enum([
  'interaction',
  'allergy',
  'dose',
  'contraindication',
  'duplicate_therapy',
  /** Older-adult prescribing criteria (AGS Beers): needs the age; drug–disease parts use the conditions. */
  'older_adult',
]);
export type SafetyCheckKind = z.infer<typeof SafetyCheckKind>;

export const CodedValue = z.object({
  system: z.enum(['rxnorm', 'atc', 'icd10', 'snomed', 'loinc']),
  code: z.string().min(1).max(40),
});

export const MedicationInput = z.object({
  name: z.string().min(1).max(200),
  /** Codes the record carries (e.g. RxNorm); a known code wins over the name. */
  codes: z.array(CodedValue).max(10).default([]),
  dose: z.object({ value: z.number(), unit: z.string().max(40) }).nullable(),
  route: z.string().max(100).nullable(),
  frequencyPerDay: z.number().nullable(),
});
export type MedicationInput = z.infer<typeof MedicationInput>;

/** How old (days before the case) an eGFR or creatinine may be for the renal dose checks, unless configured otherwise. */
export const RENAL_RESULT_WINDOW_DAYS = 90;

/** A condition or allergy as the record has it: its text and the codes it carries (a known code wins over the text). */
export const CodedTerm = z.object({
  text: z.string().min(1).max(1024),
  codes: z.array(CodedValue).max(20).default([]),
});
/** Every text input is bounded: the checks' cost is linear in them, and none is unbounded. */
const Term = z.union([z.string().min(1).max(1024), CodedTerm]);

export const SafetyCheckInput = z.object({
  kind: SafetyCheckKind,
  medications: z.array(MedicationInput).min(1).max(100),
  allergies: z.array(Term).max(200).default([]),
  conditions: z.array(Term).max(200).default([]),
  renal: z
    .object({
      egfr: z.number().nullable(),
      /** How the laboratory computed the reported eGFR, from its LOINC code (e.g. "CKD-EPI 2021, LOINC 98979-8"). */
      egfrMethod: z.string().max(100).nullable().default(null),
      /** Days between the eGFR and the case; null = unknown. */
      egfrDaysAgo: z.number().int().min(0).nullable().default(null),
      creatinineMgDl: z.number().nullable(),
      creatinineDaysAgo: z.number().int().min(0).nullable().default(null),
      /** Results older than this many days are not used. */
      windowDays: z.number().int().min(1).max(3650).default(RENAL_RESULT_WINDOW_DAYS),
    })
    .nullable()
    .default(null),
  /** The view's age ("67", "90+"); used for age-banded dose ranges and eGFR estimation. */
  ageBand: z.string().max(40).nullable().default(null),
  sex: z.string().max(40).nullable().default(null),
  weightKg: z.number().positive().max(500).nullable().default(null),
  /** Who asked: a plan step id, or "verification" (for the KB's audit trail; carries no case data). */
  requestedBy: z.string().max(100).default('unspecified'),
});
export type SafetyCheckInput = z.input<typeof SafetyCheckInput>;

export { Severity } from './plan.js';

export const SafetyFinding = z.object({
  kind: SafetyCheckKind,
  severity: Severity,
  summary: z.string(),
  explanation: z.string(),
  /** Management advice from the KB fact, when it has one. */
  management: z.string().nullable(),
  medications: z.array(z.string()),
  factIds: z.array(z.string()).min(1),
});
export type SafetyFinding = z.infer<typeof SafetyFinding>;

export const SafetyCheckResult = z.object({
  kind: SafetyCheckKind,
  /** Medications the KB recognised and checked. */
  checked: z.array(z.string()),
  /** Terms the KB could not map to an entity: reported, never guessed. */
  unknownTerms: z.array(z.string()),
  /** For each unknown term, the closest knowledge-base names (for a human; never used by a check). */
  suggestions: z.array(z.object({ term: z.string(), names: z.array(z.string()) })).optional(),
  findings: z.array(SafetyFinding),
  /** Medications (or allergies, conditions) that could not be checked, and why: shown, never hidden. */
  unchecked: z.array(z.object({ term: z.string(), reason: z.string() })),
  facts: z.array(KbFact),
});
export type SafetyCheckResult = z.infer<typeof SafetyCheckResult>;

/** Medicines named in statements (verification reads the text, not a model's own list of drugs). */
export const MentionsInput = z.object({
  statements: z
    .array(
      z.object({
        id: z.string().max(100),
        text: z.string().max(20_000),
        /** The drugs the statement's author listed for it, resolved for comparison. */
        listed: z.array(z.string().max(200)).max(100).default([]),
      }),
    )
    .max(2000),
  /** The current medications, resolved so mentions can be told apart from new drugs. */
  current: z.array(z.string().max(200)).max(200).default([]),
  /**
   * Evidence the statements cite, to say what each is about: case record elements (resolved by
   * code, then name), free text (a note, a search's terms and title, a reviewer's comments).
   */
  evidence: z
    .array(
      z.object({
        id: z.string().max(300),
        /** `terms`: one name per line, each matched whole by the knowledge base's names (MeSH headings). */
        kind: z.enum(['medication', 'problem', 'allergy', 'lab', 'text', 'terms']),
        text: z.string().max(20_000),
        codes: z
          .array(z.object({ system: z.enum(['rxnorm', 'atc', 'icd10', 'snomed', 'loinc']), code: z.string().max(40) }))
          .max(20)
          .default([]),
      }),
    )
    .max(5000)
    .default([]),
  /** Knowledge-base fact ids the statements cite (without the `kb:` prefix). */
  facts: z.array(z.string().max(300)).max(5000).default([]),
});
export type MentionsInput = z.input<typeof MentionsInput>;

/** A concept a statement names: a medicine, drug class, condition or test, with the entities above it. */
export const StatementConcept = z.object({
  entityId: z.string(),
  /** Every entity the words can name (the drug and the allergen class "penicillin"). */
  self: z.array(z.string()),
  /** The knowledge base's name for it, and the words as written. */
  name: z.string(),
  text: z.string(),
  type: z.enum(['medicine', 'condition', 'lab']),
  /** The entity, its ingredients (a product) and all their classes or parent conditions. */
  up: z.array(z.string()),
});
export type StatementConcept = z.infer<typeof StatementConcept>;

/** What a piece of evidence is about: the entities it names (raw) and those with everything above them (up). */
export const EvidenceAbout = z.object({ id: z.string(), raw: z.array(z.string()), up: z.array(z.string()) });
export type EvidenceAbout = z.infer<typeof EvidenceAbout>;
const Resolved = z.object({ name: z.string(), entityIds: z.array(z.string()) });
export const MentionsResult = z.object({
  statements: z.array(
    z.object({
      id: z.string(),
      mentions: z.array(
        z.object({
          text: z.string(),
          entityId: z.string(),
          name: z.string(),
          dose: z.object({ value: z.number(), unit: z.string() }).nullable(),
          route: z.string().nullable(),
          frequencyPerDay: z.number().nullable(),
          /** The statement stops or replaces it: the regimen after the change leaves it out. */
          stopped: z.boolean().default(false),
        }),
      ),
      listed: z.array(Resolved),
      /** Every concept the statement names (medicines, classes, conditions, tests). */
      concepts: z.array(StatementConcept).default([]),
    }),
  ),
  current: z.array(Resolved),
  /** What each evidence item and each cited fact is about; a fact the knowledge base does not hold is left out. */
  evidence: z.array(EvidenceAbout).default([]),
  facts: z.array(EvidenceAbout).default([]),
});
export type MentionsResult = z.infer<typeof MentionsResult>;

/** A reading that found nothing (for knowledge bases with no content, in benchmarks and test workers). */
export const emptyMentions = (input: MentionsInput): MentionsResult => ({
  statements: input.statements.map((s) => ({ id: s.id, mentions: [], listed: [], concepts: [] })),
  current: [],
  evidence: [],
  facts: [],
});
