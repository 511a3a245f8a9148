/**
 * The JSON output of each `co` command, as zod schemas: the contract of `--format json`. Every
 * JSON document the CLI prints is validated against its schema first (`toJson`), and
 * docs/cli.md carries the JSON Schema generated from these (`npm run docs:cli`).
 */
import { z } from 'zod';
import { CaseView } from '../domain/case.js';
import { KbFact, SafetyCheckKind, SafetyFinding } from '../domain/knowledge.js';
import { AllergyView, LabView, MedicationView, ProblemView } from '../domain/minimised-case.js';
import { Evidence, Plan, Severity, VerificationFinding } from '../domain/plan.js';
import { CareReasoningResult } from '../domain/care-reasoning.js';

/** At most this many rows of each list of the view are printed; the rest are counted in `notListed`. */
export const MAX_ROWS = 100;

/** One precise problem with the input: a JSON Pointer into the file, a stable code, a message. */
export const InputIssue = z.object({ pointer: z.string(), code: z.string(), message: z.string() });
export type InputIssue = z.infer<typeof InputIssue>;

export const CliErrorOutput = z.object({
  /** A stable code: FILE_NOT_FOUND, FILE_UNREADABLE, NOT_JSON, NOT_A_CASE, QUESTION_REQUIRED, CASE_INVALID, RUN_FAILED, … */
  code: z.string(),
  message: z.string(),
  /** 1 = failure, 2 = usage or invalid input (see docs/cli.md). */
  exitCode: z.union([z.literal(1), z.literal(2)]),
  /** Validation problems, for CASE_INVALID. */
  issues: z.array(InputIssue).default([]),
});
export type CliErrorOutput = z.infer<typeof CliErrorOutput>;

/** The PHI-minimised view as `co case run` prints it: bounded lists and counts. */
export const CaseRunView = z.object({
  question: z.string(),
  patient: z.object({ age: z.string().nullable(), sex: z.string().nullable() }),
  /** Key results (latest per test; renal, electrolytes, liver, INR, HbA1c, blood count, lipids, vitals). */
  keyResults: z.array(LabView).max(MAX_ROWS),
  /** Current medications. */
  medications: z.array(MedicationView).max(MAX_ROWS),
  /** Current problems. */
  problems: z.array(ProblemView).max(MAX_ROWS),
  allergies: z.array(AllergyView).max(MAX_ROWS),
  counts: z.object({
    keyResults: z.number().int(),
    otherResults: z.number().int(),
    medications: z.number().int(),
    problems: z.number().int(),
    resolvedProblems: z.number().int(),
    allergies: z.number().int(),
    imagingStudies: z.number().int(),
    notes: z.number().int(),
    /** Rows of the lists above left out by the MAX_ROWS bound. */
    notListed: z.object({
      keyResults: z.number().int(),
      medications: z.number().int(),
      problems: z.number().int(),
      allergies: z.number().int(),
    }),
    /** Resources in the bundle by type. */
    resources: z.record(z.string(), z.number().int()),
    observations: z.number().int(),
    tests: z.number().int(),
    medicationsByStatus: z.record(z.string(), z.number().int()),
  }),
});
export type CaseRunView = z.infer<typeof CaseRunView>;

/** `co case run`: one case through the graph to its review interrupt. */
export const CaseRunResult = z.object({
  ok: z.literal(true),
  file: z.string(),
  caseId: z.string(),
  mode: z.enum(['knowledge-driven', 'llm']),
  /** Always `awaiting_review`: the run stops where a human would decide. */
  status: z.literal('awaiting_review'),
  revision: z.number().int(),
  durationMs: z.number().int().min(0),
  view: CaseRunView,
  plan: Plan,
  /** The evidence the plan and the findings cite (`kb:`, `pmid:`, `img:`, `case:` ids). */
  evidence: z.array(Evidence),
  /** Verification findings, most severe first. */
  findings: z.array(VerificationFinding),
  maxSeverity: Severity.nullable(),
  /**
   * The knowledge base's care-plan reasoning (all six checks' findings over one snapshot, the
   * actions with their checked alternatives and chains, monitoring, guidelines); its facts are
   * in `evidence`. Null when the reasoning step did not run (no medications, or the knowledge base
   * was unavailable).
   */
  careReasoning: CareReasoningResult.omit({ facts: true }).nullable(),
});
export type CaseRunResult = z.infer<typeof CaseRunResult>;

/** A file `co case run` could not run (printed as such only when several files are given). */
export const CaseRunFailure = z.object({ ok: z.literal(false), file: z.string(), error: CliErrorOutput });
export type CaseRunFailure = z.infer<typeof CaseRunFailure>;

/** With one FILE, `co case run --format json` prints a CaseRunResult; with several, one CaseRunLine per line (NDJSON). */
export const CaseRunLine = z.discriminatedUnion('ok', [CaseRunResult, CaseRunFailure]);
export type CaseRunLine = z.infer<typeof CaseRunLine>;

/** `co case submit --wait`: the API's case view once the case waits for review (or closed or failed). */
export const CaseSubmitResult = z.object({
  baseUrl: z.string(),
  /** False when the API already knew this case (an idempotent resubmission). */
  created: z.boolean(),
  case: CaseView,
});
export type CaseSubmitResult = z.infer<typeof CaseSubmitResult>;

const Code = z.object({ system: z.string(), code: z.string() });

/** `co kb search TERM`: what the term resolves to, and the names nearest to it. */
export const KbSearchResult = z.object({
  term: z.string(),
  /** The knowledge-base version searched (`kb-r<revision>`). */
  version: z.string(),
  /** The entities the term resolves to exactly (by name, brand, synonym, curated misspelling, code or phrase); empty when unknown. */
  resolved: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      name: z.string(),
      /** The name (or code) that matched, and how. */
      matchedName: z.string(),
      match: z.string(),
      /** Terminology codes the knowledge base holds for the entity (RxNorm, ATC, ICD-10, SNOMED CT, LOINC). */
      codes: z.array(Code),
      /** The classes it belongs to, nearest first. */
      classes: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  ),
  /** For an unknown term: the entities with the closest names by edit distance (for a human; never used by a check). */
  suggestions: z.array(z.object({ id: z.string(), type: z.string(), name: z.string(), matchedName: z.string() })),
  /** Other entities whose names start with or contain the term. */
  matches: z.array(z.object({ id: z.string(), type: z.string(), name: z.string(), matchedName: z.string() })),
});
export type KbSearchResult = z.infer<typeof KbSearchResult>;

/** Where a fact comes from: its provenance as the knowledge base records it. */
export const FactSource = z.object({
  factId: z.string(),
  statement: z.string(),
  label: z.string(),
  citation: z.string(),
  url: z.string().nullable(),
  addedBy: z.string(),
  addedAt: z.string(),
  version: z.number().int(),
});
export type FactSource = z.infer<typeof FactSource>;

/** `co kb check DRUG…`: the checks that ran and their findings, each with the facts it rests on. */
export const KbCheckResult = z.object({
  version: z.string(),
  input: z.object({
    medications: z.array(
      z.object({
        name: z.string(),
        dose: z.object({ value: z.number(), unit: z.string() }).nullable(),
        frequencyPerDay: z.number().nullable(),
        route: z.string().nullable(),
      }),
    ),
    allergies: z.array(z.string()),
    conditions: z.array(z.string()),
    egfr: z.number().nullable(),
    age: z.string().nullable(),
  }),
  /** One entry per check kind that ran: what was checked and what could not be. */
  checks: z.array(
    z.object({
      kind: SafetyCheckKind,
      checked: z.array(z.string()),
      unknownTerms: z.array(z.string()),
      suggestions: z.array(z.object({ term: z.string(), names: z.array(z.string()) })),
      unchecked: z.array(z.object({ term: z.string(), reason: z.string() })),
      findings: z.number().int(),
    }),
  ),
  /** All findings, most severe first, each with the provenance of every fact it cites. */
  findings: z.array(SafetyFinding.extend({ sources: z.array(FactSource) })),
  /** The cited facts in full. */
  facts: z.array(KbFact),
});
export type KbCheckResult = z.infer<typeof KbCheckResult>;

/** Validate `value` against the command's schema and render it; a mismatch is a bug, thrown as such. */
export function toJson<S extends z.ZodType>(schema: S, value: z.input<S>, pretty = true): string {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `internal error: the output does not match its schema at /${issue?.path.join('/') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  return pretty ? JSON.stringify(parsed.data, null, 2) : JSON.stringify(parsed.data);
}

/** The schemas docs/cli.md documents, by command. */
export const OUTPUT_SCHEMAS = {
  'co case run (one FILE)': CaseRunResult,
  'co case run (several FILEs: one line each, a CaseRunResult or, for a file that could not run, this)': CaseRunFailure,
  'co case submit': CaseSubmitResult,
  'co kb search': KbSearchResult,
  'co kb check': KbCheckResult,
} as const;
