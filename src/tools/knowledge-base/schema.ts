/**
 * Knowledge-base tool contract: normalise terms to canonical entities, and run drug-safety
 * checks. Facts carry provenance; findings name the fact ids they rest on. The store and the
 * checks themselves are the knowledge-base issue; the graph depends only on this contract.
 */
import { z } from 'zod';
import { Severity } from '../../domain/plan.js';

export const EntityType = z.enum(['ingredient', 'product', 'drug_class', 'condition', 'lab_test', 'allergen_class']);

export const KbEntity = z.object({ id: z.string(), type: EntityType, name: z.string() });
export type KbEntity = z.infer<typeof KbEntity>;

export const KbFact = z.object({
  /** Stable fact id, cited as `kb:<id>`. */
  id: z.string(),
  relation: z.string(),
  statement: z.string(),
  source: z.object({ label: z.string(), citation: z.string() }),
  version: z.number().int(),
  status: z.enum(['active', 'proposed', 'retired']),
});
export type KbFact = z.infer<typeof KbFact>;

export const KbLookupInput = z.object({ terms: z.array(z.string().min(1).max(200)).min(1).max(100), requestedBy: z.string().max(100).default('unspecified') });
export type KbLookupInput = z.input<typeof KbLookupInput>;
export const KbLookupResult = z.object({
  /** One entry per input term; `entity` is null for unknown terms (never guessed). */
  resolved: z.array(z.object({ term: z.string(), entity: KbEntity.nullable() })),
  facts: z.array(KbFact),
});
export type KbLookupResult = z.infer<typeof KbLookupResult>;

export const SafetyCheckKind = z.enum(['interaction', 'allergy', 'dose', 'contraindication', 'duplicate_therapy']);
export type SafetyCheckKind = z.infer<typeof SafetyCheckKind>;

export const MedicationInput = z.object({
  name: z.string().min(1).max(200),
  dose: z.object({ value: z.number(), unit: z.string() }).nullable(),
  route: z.string().nullable(),
  frequencyPerDay: z.number().nullable(),
});
export type MedicationInput = z.infer<typeof MedicationInput>;

export const SafetyCheckInput = z.object({
  kind: SafetyCheckKind,
  medications: z.array(MedicationInput).min(1).max(100),
  allergies: z.array(z.string()).default([]),
  conditions: z.array(z.string()).default([]),
  renal: z.object({ egfr: z.number().nullable(), creatinineMgDl: z.number().nullable() }).nullable().default(null),
  ageBand: z.string().nullable().default(null),
  /** Who asked: a plan step id, or "verification" (for the KB's audit trail; carries no case data). */
  requestedBy: z.string().max(100).default('unspecified'),
});
export type SafetyCheckInput = z.input<typeof SafetyCheckInput>;

export { Severity } from '../../domain/plan.js';

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
  findings: z.array(SafetyFinding),
  facts: z.array(KbFact),
});
export type SafetyCheckResult = z.infer<typeof SafetyCheckResult>;

/** What the graph needs from a knowledge base. Implementations throw ToolError on failure. */
export interface KnowledgeBaseClient {
  lookup(input: KbLookupInput, signal: AbortSignal): Promise<{ data: KbLookupResult; version: string | null }>;
  check(input: SafetyCheckInput, signal: AbortSignal): Promise<{ data: SafetyCheckResult; version: string | null }>;
}
