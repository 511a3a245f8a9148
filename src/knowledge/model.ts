/**
 * The knowledge graph's data model: entities, typed relations with per-relation attributes,
 * provenance, and the edit operations that change them. Everything that enters the store
 * (edits over HTTP, importer rows, starter content) is validated by these schemas.
 */
import { z } from 'zod';
import { Severity } from '../domain/plan.js';
import { EntityType } from '../domain/knowledge.js';

export { EntityType };
export type EntityTypeName = z.infer<typeof EntityType>;

/** Entity ids are readable slugs with a type prefix, e.g. `drug:warfarin`, `class:nsaids`. */
export const ENTITY_PREFIX: Record<EntityTypeName, string> = {
  ingredient: 'drug',
  product: 'product',
  drug_class: 'class',
  condition: 'cond',
  lab_test: 'lab',
  allergen_class: 'allergen',
};

export const EntityId = z
  .string()
  .regex(
    /^(drug|product|class|cond|lab|allergen):[a-z0-9][a-z0-9.+-]{0,99}$/,
    'an entity id is <prefix>:<slug>, e.g. drug:warfarin or class:nsaids',
  );

export function entityTypeOf(id: string): EntityTypeName {
  const prefix = id.slice(0, id.indexOf(':'));
  const found = (Object.entries(ENTITY_PREFIX) as Array<[EntityTypeName, string]>).find(([, p]) => p === prefix);
  if (!found) throw new Error(`not an entity id: ${id}`);
  return found[0];
}

export const SourceRef = z.object({
  /** Short label, e.g. "FDA label", "BNF", "KDIGO 2012". */
  label: z.string().min(1).max(200),
  /** Full citation: document, section, year. */
  citation: z.string().min(1).max(1000),
  url: z.string().url().max(1000).nullable().default(null),
});
export type SourceRef = z.infer<typeof SourceRef>;

export const FactStatus = z.enum(['active', 'proposed', 'retired']);
export type FactStatus = z.infer<typeof FactStatus>;

const text = (max: number) => z.string().trim().min(1).max(max);

export const NameKind = z.enum([
  'preferred',
  'generic',
  'brand',
  'salt',
  'misspelling',
  'lay',
  'abbreviation',
  'chinese',
]);
export type NameKind = z.infer<typeof NameKind>;

export const CodeSystem = z.enum(['rxnorm', 'atc', 'icd10', 'snomed', 'loinc']);
export type CodeSystem = z.infer<typeof CodeSystem>;

export const RenalBand = z
  .object({
    metric: z.enum(['egfr', 'crcl']),
    /** Inclusive lower bound (mL/min or mL/min/1.73 m²); null = no lower bound. */
    min: z.number().min(0).nullable(),
    /** Exclusive upper bound; null = no upper bound. */
    max: z.number().min(0).nullable(),
  })
  .refine((b) => b.min !== null || b.max !== null, 'a renal band needs a lower or an upper bound');
export type RenalBand = z.infer<typeof RenalBand>;

export const MassUnit = z.enum(['g', 'mg', 'mcg']);

/** Per-relation attributes. `subject` / `object` are entity ids; `object` is null where noted. */
export const RelationAttrs = {
  has_ingredient: z.object({}).strict(),
  member_of_class: z.object({}).strict(),
  known_as: z
    .object({
      name: text(200),
      kind: NameKind,
      lang: z
        .string()
        .regex(/^[a-z]{2}(-[A-Za-z]{2,4})?$/)
        .default('en'),
    })
    .strict(),
  coded_as: z.object({ system: CodeSystem, code: text(40) }).strict(),
  interacts_with: z.object({ severity: Severity, mechanism: text(1000), management: text(1000) }).strict(),
  contraindicated_in: z.object({ severity: Severity, note: text(1000) }).strict(),
  cross_reacts_with: z.object({ severity: Severity, note: text(1000), sameClass: z.boolean().default(false) }).strict(),
  dose_range: z
    .object({
      route: z.enum(['oral', 'iv', 'im', 'sc', 'any']),
      /** Adult bands: inclusive minimum age in years; null maximum = no upper limit. */
      ageMin: z.number().int().min(0).max(120).default(18),
      ageMax: z.number().int().min(0).max(130).nullable().default(null),
      renal: RenalBand.nullable().default(null),
      unit: MassUnit,
      per: z.enum(['dose', 'day', 'week']),
      min: z.number().min(0).nullable().default(null),
      max: z.number().positive().nullable().default(null),
      /**
       * A band that applies only when at least `atLeast` of these patient criteria hold (apixaban's dose
       * reduction: two of age ≥ 80, weight ≤ 60 kg, creatinine ≥ 1.5 mg/dL); null = no criteria.
       */
      criteria: z
        .object({
          atLeast: z.number().int().min(1).max(3),
          ageMin: z.number().min(0).max(130).nullable().default(null),
          weightMaxKg: z.number().positive().max(500).nullable().default(null),
          creatinineMinMgDl: z.number().positive().max(30).nullable().default(null),
        })
        .strict()
        .nullable()
        .default(null),
      /** `range`: check the numbers; `avoid` / `contraindicated`: the drug should not be used in this band. */
      action: z.enum(['range', 'avoid', 'contraindicated']).default('range'),
      note: z.string().max(1000).default(''),
    })
    .strict()
    .refine((a) => a.action !== 'range' || a.max !== null || a.min !== null, 'a range needs a min or a max')
    .refine((a) => a.min === null || a.max === null || a.min <= a.max, 'min must not exceed max'),
  monitors: z.object({ note: text(1000) }).strict(),
  treats: z
    .object({
      note: z.string().max(1000).default(''),
      /** False: the drug's use is known, but it is never proposed as an alternative (e.g. opioids, benzodiazepines). */
      alternative: z.boolean().default(true),
    })
    .strict(),
  guideline_recommendation: z.object({ statement: text(2000) }).strict(),
  /**
   * Older-adult prescribing (AGS Beers Criteria and the like): avoid, or use with caution, from
   * `ageMin`; only with `condition` (drug–disease) or only with `with` also taken (drug–drug).
   */
  older_adult: z
    .object({
      ageMin: z.number().int().min(0).max(120).default(65),
      action: z.enum(['avoid', 'caution']),
      condition: EntityId.nullable().default(null),
      with: EntityId.nullable().default(null),
      rationale: text(1000),
      recommendation: text(1000),
      quality: z.enum(['high', 'moderate', 'low']).nullable().default(null),
      strength: z.enum(['strong', 'weak']).nullable().default(null),
      /** A count rule: fires when at least this many of the patient's drugs belong to the subject class (Beers "≥3 CNS-active drugs"). */
      minCount: z.number().int().min(2).max(10).nullable().default(null),
    })
    .strict()
    .refine((a) => !(a.condition && a.with), 'a rule names a condition or a second drug, not both')
    .refine(
      (a) => a.minCount === null || (!a.condition && !a.with),
      'a count rule names neither a condition nor a second drug',
    ),
} as const;

export const Relation = z.enum(
  Object.keys(RelationAttrs) as [keyof typeof RelationAttrs, ...Array<keyof typeof RelationAttrs>],
);
export type Relation = z.infer<typeof Relation>;
export type AttrsOf<R extends Relation> = z.output<(typeof RelationAttrs)[R]>;

/** Which entity types each relation may connect (subject → object; null object = none). */
export const RELATION_SHAPE: Record<
  Relation,
  { subject: readonly EntityTypeName[]; object: readonly EntityTypeName[] | null }
> = {
  has_ingredient: { subject: ['product'], object: ['ingredient'] },
  member_of_class: { subject: ['ingredient', 'drug_class', 'condition'], object: ['drug_class', 'condition'] },
  known_as: {
    subject: ['ingredient', 'product', 'drug_class', 'condition', 'lab_test', 'allergen_class'],
    object: null,
  },
  coded_as: { subject: ['ingredient', 'product', 'drug_class', 'condition', 'lab_test'], object: null },
  interacts_with: { subject: ['ingredient', 'drug_class'], object: ['ingredient', 'drug_class'] },
  contraindicated_in: { subject: ['ingredient', 'drug_class'], object: ['condition'] },
  cross_reacts_with: { subject: ['allergen_class', 'ingredient'], object: ['ingredient', 'drug_class'] },
  dose_range: { subject: ['ingredient'], object: null },
  monitors: { subject: ['ingredient', 'drug_class'], object: ['lab_test'] },
  treats: { subject: ['ingredient', 'drug_class'], object: ['condition'] },
  guideline_recommendation: { subject: ['ingredient', 'drug_class', 'condition'], object: null },
  older_adult: { subject: ['ingredient', 'drug_class'], object: null },
};

/** Entity ids a fact refers to: its ends and, for some relations, attributes (an older-adult rule's condition). */
export function referencedEntities(f: {
  subject: string;
  object: string | null;
  attrs: Record<string, unknown>;
}): string[] {
  const ids = [f.subject];
  if (f.object) ids.push(f.object);
  for (const key of ['condition', 'with'] as const) {
    const v = f.attrs[key];
    if (typeof v === 'string') ids.push(v);
  }
  return ids;
}

export const EntityAttrs = z
  .object({
    /** Drug classes: whether two different members together count as duplicate therapy. */
    duplicateCheck: z.boolean().optional(),
    /** Drug classes: "therapeutic" (a treatment class) or "risk_group" (e.g. QT-prolonging). */
    classKind: z.enum(['therapeutic', 'risk_group']).optional(),
    /** Lab tests: canonical unit. */
    unit: z.string().max(40).optional(),
  })
  .strict();
export type EntityAttrs = z.infer<typeof EntityAttrs>;

export const NewEntity = z.object({
  id: EntityId,
  name: text(200),
  attrs: EntityAttrs.default({}),
  source: SourceRef,
});
export type NewEntity = z.input<typeof NewEntity>;

/** A fact as submitted (by an edit or an importer): relation-specific attributes are checked. */
export const NewFact = z
  .object({
    relation: Relation,
    subject: EntityId,
    object: EntityId.nullable().default(null),
    attrs: z.record(z.string(), z.unknown()).default({}),
    source: SourceRef,
  })
  .superRefine((f, ctx) => {
    const shape = RELATION_SHAPE[f.relation];
    const subjectType = entityTypeOf(f.subject);
    if (!shape.subject.includes(subjectType))
      ctx.addIssue({ code: 'custom', path: ['subject'], message: `${f.relation} cannot start at a ${subjectType}` });
    if (shape.object === null && f.object !== null)
      ctx.addIssue({ code: 'custom', path: ['object'], message: `${f.relation} takes no object` });
    if (shape.object !== null) {
      if (f.object === null)
        ctx.addIssue({ code: 'custom', path: ['object'], message: `${f.relation} needs an object` });
      else if (!shape.object.includes(entityTypeOf(f.object)))
        ctx.addIssue({
          code: 'custom',
          path: ['object'],
          message: `${f.relation} cannot point at a ${entityTypeOf(f.object)}`,
        });
    }
    if (f.relation === 'older_adult') {
      const { condition, with: other } = f.attrs as { condition?: unknown; with?: unknown };
      if (
        typeof condition === 'string' &&
        EntityId.safeParse(condition).success &&
        entityTypeOf(condition) !== 'condition'
      )
        ctx.addIssue({ code: 'custom', path: ['attrs', 'condition'], message: 'must be a condition (cond:…)' });
      if (
        typeof other === 'string' &&
        EntityId.safeParse(other).success &&
        !['ingredient', 'drug_class'].includes(entityTypeOf(other))
      )
        ctx.addIssue({ code: 'custom', path: ['attrs', 'with'], message: 'must be a drug or a class' });
    }
    const attrs = RelationAttrs[f.relation].safeParse(f.attrs);
    if (!attrs.success)
      for (const issue of attrs.error.issues) ctx.addIssue({ ...issue, path: ['attrs', ...issue.path] });
  })
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- widens the union of attribute shapes for storage
  .transform((f) => ({ ...f, attrs: RelationAttrs[f.relation].parse(f.attrs) as Record<string, unknown> }));
export type NewFactInput = z.input<typeof NewFact>;
export type NewFact = z.output<typeof NewFact>;

/** A fact as stored, with provenance. */
export interface StoredFact {
  id: string;
  relation: Relation;
  subject: string;
  object: string | null;
  attrs: Record<string, unknown>;
  source: SourceRef;
  addedBy: string;
  addedAt: string;
  version: number;
  status: FactStatus;
  updatedAt: string;
  /** The applied edit that produced this version, or null for imports. */
  editId: string | null;
}

export interface StoredEntity {
  id: string;
  type: EntityTypeName;
  name: string;
  attrs: EntityAttrs;
  source: SourceRef;
  addedBy: string;
  addedAt: string;
  version: number;
  status: FactStatus;
}

// ---------------------------------------------------------------------------------------------
// Edits

export const EditOperation = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add_fact'), fact: NewFact }),
  z.object({
    op: z.literal('change_fact'),
    factId: z.string().min(1).max(300),
    /** Replacement attributes and/or source; the relation and its ends never change (retire and add instead). */
    attrs: z.record(z.string(), z.unknown()).optional(),
    source: SourceRef.optional(),
  }),
  z.object({ op: z.literal('retire_fact'), factId: z.string().min(1).max(300) }),
  z.object({ op: z.literal('add_entity'), entity: NewEntity }),
]);
export type EditOperationInput = z.input<typeof EditOperation>;
export type EditOperation = z.output<typeof EditOperation>;

export const EditProposal = z.object({
  operation: EditOperation,
  /** Why the change is needed (shown to the reviewer and kept in the history). */
  reason: text(2000),
  /** Where the proposal came from, e.g. a reviewer's correction of a case plan. */
  origin: z
    .object({
      kind: z.enum(['api', 'case_review', 'import']),
      caseId: z.string().max(128).optional(),
      revision: z.number().int().min(1).optional(),
    })
    .default({ kind: 'api' }),
});
export type EditProposalInput = z.input<typeof EditProposal>;

export const EditStatus = z.enum(['proposed', 'applied', 'rejected']);
export type EditStatus = z.infer<typeof EditStatus>;

export interface StoredEdit {
  id: string;
  operation: EditOperation;
  reason: string;
  origin: z.output<typeof EditProposal>['origin'];
  status: EditStatus;
  /** For change/retire: the fact version the proposal was made against. */
  baseVersion: number | null;
  /** The fact the edit creates or changes (for add_entity: the entity id). */
  targetId: string;
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
}
