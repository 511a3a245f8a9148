/**
 * Bulk loader for knowledge in simple, documented formats (docs/knowledge-base.md): a folder of
 * CSV files, or one JSON file with the same record types as arrays. Every row is validated;
 * errors name the file, line and column. The whole load is one transaction: it applies
 * completely or not at all. The starter content in `kb/starter/` is loaded the same way.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Severity } from '../domain/plan.js';
import { KbError } from './errors.js';
import {
  CodeSystem,
  ENTITY_PREFIX,
  NameKind,
  SourceRef,
  type EntityTypeName,
  type NewEntity,
  type NewFactInput,
} from './model.js';
import type { ImportBatch, ImportReport, KnowledgeBaseStore } from './store.js';

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes; UTF-8, optional BOM)

export function parseCsv(text: string): {
  header: string[];
  rows: Array<{ line: number; values: Record<string, string> }>;
} {
  const records: Array<{ line: number; fields: string[] }> = [];
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      fields.push(field);
      if (fields.some((f) => f.trim() !== '')) records.push({ line: recordLine, fields });
      fields = [];
      field = '';
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (quoted) throw new KbError('KB_IMPORT_INVALID', `unterminated quoted field starting on line ${recordLine}`);
  fields.push(field);
  if (fields.some((f) => f.trim() !== '')) records.push({ line: recordLine, fields });
  const [head, ...body] = records;
  if (!head) return { header: [], rows: [] };
  const header = head.fields.map((h) => h.trim());
  const rows = body
    .filter((r) => !r.fields[0]?.startsWith('#'))
    .map((r) => {
      if (r.fields.length > header.length)
        throw new KbError(
          'KB_IMPORT_INVALID',
          `line ${r.line}: ${r.fields.length} fields, the header has ${header.length}`,
        );
      return { line: r.line, values: Object.fromEntries(header.map((h, i) => [h, (r.fields[i] ?? '').trim()])) };
    });
  return { header, rows };
}

// ---------------------------------------------------------------------------------------------
// Record types (one per file; the JSON format uses the same names as keys)

const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean)
      : (v ?? []),
  z.array(z.string().min(1).max(200)),
);
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().max(2000).optional());
const optionalNumber = z.preprocess(
  (v) => (v === '' || v === undefined || v === null ? null : typeof v === 'string' ? Number(v) : v),
  z.number().finite().nullable(),
);
const yesNo = z.preprocess((v) => (typeof v === 'string' ? /^(yes|true|1|y)$/i.test(v) : Boolean(v)), z.boolean());
const sourceKey = z.string().min(1).max(100);

export const RECORD_TYPES = {
  sources: z.object({
    key: sourceKey,
    label: z.string().min(1).max(200),
    citation: z.string().min(1).max(1000),
    url: optionalText,
  }),
  classes: z.object({
    id: z.string().min(1),
    name: z.string().min(1).max(200),
    parents: list,
    kind: z.enum(['therapeutic', 'risk_group']).default('therapeutic'),
    duplicate_check: yesNo.default(false),
    names: list,
    names_zh: list,
    lay_terms: list,
    atc: list,
    source: sourceKey,
  }),
  ingredients: z.object({
    id: z.string().min(1),
    name: z.string().min(1).max(200),
    classes: list,
    brands: list,
    names_zh: list,
    synonyms: list,
    misspellings: list,
    rxnorm: list,
    atc: list,
    source: sourceKey,
    /** Source for the brand and Chinese names, when different from `source`. */
    names_source: optionalText,
  }),
  products: z.object({
    id: z.string().min(1),
    name: z.string().min(1).max(200),
    ingredients: list,
    brands: list,
    names_zh: list,
    synonyms: list,
    source: sourceKey,
  }),
  conditions: z.object({
    id: z.string().min(1),
    name: z.string().min(1).max(200),
    parents: list,
    synonyms: list,
    names_zh: list,
    icd10: list,
    source: sourceKey,
  }),
  allergens: z.object({
    id: z.string().min(1),
    name: z.string().min(1).max(200),
    names: list,
    names_zh: list,
    source: sourceKey,
  }),
  lab_tests: z.object({
    id: z.string().min(1),
    name: z.string().min(1).max(200),
    loinc: list,
    unit: optionalText,
    synonyms: list,
    source: sourceKey,
  }),
  interactions: z.object({
    a: z.string().min(1),
    b: z.string().min(1),
    severity: Severity,
    mechanism: z.string().min(1).max(1000),
    management: z.string().min(1).max(1000),
    source: sourceKey,
  }),
  contraindications: z.object({
    drug: z.string().min(1),
    condition: z.string().min(1),
    severity: Severity,
    note: z.string().min(1).max(1000),
    source: sourceKey,
  }),
  cross_reactivity: z.object({
    allergen: z.string().min(1),
    target: z.string().min(1),
    severity: Severity,
    same_class: yesNo.default(false),
    note: z.string().min(1).max(1000),
    source: sourceKey,
  }),
  dose_ranges: z.object({
    drug: z.string().min(1),
    route: z.enum(['oral', 'iv', 'im', 'sc', 'any']),
    age_min: optionalNumber,
    age_max: optionalNumber,
    renal_metric: z.preprocess((v) => (v === '' ? null : v), z.enum(['egfr', 'crcl']).nullable().default(null)),
    renal_min: optionalNumber,
    renal_max: optionalNumber,
    unit: z.enum(['g', 'mg', 'mcg']),
    per: z.enum(['dose', 'day', 'week']),
    min: optionalNumber,
    max: optionalNumber,
    action: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.enum(['range', 'avoid', 'contraindicated']).default('range'),
    ),
    note: z.string().max(1000).default(''),
    /** Patient criteria for the band: "2 of: age>=80; weight<=60; creatinine>=1.5" (empty: none). */
    criteria: z
      .string()
      .default('')
      .transform((v, ctx) => {
        if (!v.trim()) return null;
        const m = /^\s*(\d)\s+of:\s*(.+)$/.exec(v);
        if (!m) {
          ctx.addIssue({ code: 'custom', message: 'criteria: "N of: age>=A; weight<=W; creatinine>=C"' });
          return z.NEVER;
        }
        const out = {
          atLeast: Number(m[1]),
          ageMin: null as number | null,
          weightMaxKg: null as number | null,
          creatinineMinMgDl: null as number | null,
        };
        for (const part of m[2]!
          .split(';')
          .map((x) => x.trim())
          .filter(Boolean)) {
          const c = /^(age>=|weight<=|creatinine>=)\s*(\d+(?:\.\d+)?)$/.exec(part);
          if (!c) {
            ctx.addIssue({ code: 'custom', message: `criteria: cannot read “${part}”` });
            return z.NEVER;
          }
          const value = Number(c[2]);
          if (c[1] === 'age>=') out.ageMin = value;
          else if (c[1] === 'weight<=') out.weightMaxKg = value;
          else out.creatinineMinMgDl = value;
        }
        return out;
      }),
    source: sourceKey,
  }),
  monitoring: z.object({
    drug: z.string().min(1),
    lab: z.string().min(1),
    note: z.string().min(1).max(1000),
    source: sourceKey,
  }),
  treats: z.object({
    drug: z.string().min(1),
    condition: z.string().min(1),
    note: z.string().max(1000).default(''),
    /** "no": the use is recorded (so the drug's indication is known) but it is never proposed as an alternative. */
    alternative: z.preprocess((v) => (v === '' || v === undefined ? true : v), yesNo).default(true),
    source: sourceKey,
  }),
  guidelines: z.object({ subject: z.string().min(1), statement: z.string().min(1).max(2000), source: sourceKey }),
  /** Extra names for any entity (full id), with their own source: lay terms, misspellings, local names. */
  aliases: z.object({
    entity: z.string().min(1),
    name: z.string().min(1).max(200),
    kind: NameKind,
    lang: z.string().default('en'),
    source: sourceKey,
  }),
  /** Class memberships with their own source, e.g. risk groups (QT-prolonging, strong CYP3A4 inhibitors). */
  memberships: z.object({ member: z.string().min(1), class: z.string().min(1), source: sourceKey }),
  /**
   * Older-adult prescribing (e.g. the AGS Beers Criteria): a drug or class to avoid or use with
   * caution from `age_min` (default 65); with a `condition`, only in patients who have it
   * (drug–disease); with `with`, only when that drug or class is also taken (drug–drug).
   */
  older_adult: z.object({
    drug: z.string().min(1),
    condition: optionalText,
    with: optionalText,
    age_min: optionalNumber,
    action: z.enum(['avoid', 'caution']),
    rationale: z.string().min(1).max(1000),
    recommendation: z.string().min(1).max(1000),
    quality: z.preprocess((v) => (v === '' ? null : v), z.enum(['high', 'moderate', 'low']).nullable().default(null)),
    strength: z.preprocess((v) => (v === '' ? null : v), z.enum(['strong', 'weak']).nullable().default(null)),
    /** Count rules: at least this many of the patient's drugs in the class (empty for a single-drug rule). */
    min_count: optionalNumber,
    source: sourceKey,
  }),
  /** Codes for any entity (full id) with their own source, e.g. RxNorm or ATC codes from the code system itself. */
  codes: z.object({
    entity: z.string().min(1),
    system: CodeSystem,
    code: z.string().min(1).max(40),
    source: sourceKey,
  }),
} as const;

export type RecordType = keyof typeof RECORD_TYPES;
export const RECORD_ORDER = Object.keys(RECORD_TYPES) as RecordType[];
type Rec<T extends RecordType> = z.output<(typeof RECORD_TYPES)[T]>;

export type RawRecords = Partial<Record<RecordType, Array<{ where: string; value: unknown }>>>;

/** A bare slug gets the prefix of the column's entity type; a full id (`class:nsaids`) is kept. */
const ref = (value: string, type: EntityTypeName) => (value.includes(':') ? value : `${ENTITY_PREFIX[type]}:${value}`);

const ENTITY_TYPE_OF_RECORD = {
  classes: 'drug_class',
  ingredients: 'ingredient',
  products: 'product',
  conditions: 'condition',
  allergens: 'allergen_class',
  lab_tests: 'lab_test',
} as const satisfies Partial<Record<RecordType, EntityTypeName>>;

/** Turn validated records into entities and facts, resolving source keys. */
export function recordsToBatch(raw: RawRecords): ImportBatch {
  const problems: Array<{ pointer: string; message: string }> = [];
  const parsed: { [K in RecordType]?: Array<{ where: string; rec: Rec<K> }> } = {};
  for (const type of RECORD_ORDER) {
    const out: Array<{ where: string; rec: unknown }> = [];
    for (const { where, value } of raw[type] ?? []) {
      const r = RECORD_TYPES[type].safeParse(value);
      if (r.success) out.push({ where, rec: r.data });
      else
        for (const issue of r.error.issues)
          problems.push({
            pointer: `${where}${issue.path.length ? ` column ${issue.path.join('.')}` : ''}`,
            message: issue.message,
          });
    }
    (parsed as Record<string, unknown>)[type] = out;
  }
  const sources = new Map<string, SourceRef>();
  for (const { where, rec } of parsed.sources ?? []) {
    const s = SourceRef.safeParse({ label: rec.label, citation: rec.citation, url: rec.url ?? null });
    if (s.success) sources.set(rec.key, s.data);
    else problems.push({ pointer: where, message: s.error.issues.map((i) => i.message).join('; ') });
  }
  const src = (key: string, where: string): SourceRef => {
    const s = sources.get(key);
    if (!s)
      problems.push({
        pointer: `${where} column source`,
        message: `unknown source key “${key}” (define it in sources)`,
      });
    return s ?? { label: 'missing', citation: 'missing', url: null };
  };

  const entities: NewEntity[] = [];
  const facts: NewFactInput[] = [];
  const fact = (
    relation: NewFactInput['relation'],
    subject: string,
    object: string | null,
    attrs: Record<string, unknown>,
    source: SourceRef,
  ) => facts.push({ relation, subject, object, attrs, source });
  const names = (subject: string, items: Array<[string[], string, string]>, source: SourceRef) => {
    for (const [values, kind, lang] of items)
      for (const name of values) fact('known_as', subject, null, { name, kind, lang }, source);
  };

  for (const { where, rec } of parsed.classes ?? []) {
    const id = ref(rec.id, 'drug_class');
    const source = src(rec.source, where);
    entities.push({
      id,
      name: rec.name,
      attrs: { classKind: rec.kind, ...(rec.duplicate_check ? { duplicateCheck: true } : {}) },
      source,
    });
    names(
      id,
      [
        [[rec.name], 'preferred', 'en'],
        [rec.names, 'generic', 'en'],
        [rec.names_zh, 'chinese', 'zh'],
        [rec.lay_terms, 'lay', 'en'],
      ],
      source,
    );
    for (const p of rec.parents) fact('member_of_class', id, ref(p, 'drug_class'), {}, source);
    for (const code of rec.atc) fact('coded_as', id, null, { system: 'atc', code }, source);
  }
  for (const { where, rec } of parsed.ingredients ?? []) {
    const id = ref(rec.id, 'ingredient');
    const source = src(rec.source, where);
    const nameSource = rec.names_source ? src(rec.names_source, where) : source;
    entities.push({ id, name: rec.name, source });
    names(
      id,
      [
        [[rec.name], 'preferred', 'en'],
        [rec.synonyms, 'generic', 'en'],
        [rec.misspellings, 'misspelling', 'en'],
      ],
      source,
    );
    names(
      id,
      [
        [rec.brands, 'brand', 'en'],
        [rec.names_zh, 'chinese', 'zh'],
      ],
      nameSource,
    );
    for (const c of rec.classes) fact('member_of_class', id, ref(c, 'drug_class'), {}, source);
    for (const code of rec.rxnorm) fact('coded_as', id, null, { system: 'rxnorm', code }, source);
    for (const code of rec.atc) fact('coded_as', id, null, { system: 'atc', code }, source);
  }
  for (const { where, rec } of parsed.products ?? []) {
    const id = ref(rec.id, 'product');
    const source = src(rec.source, where);
    entities.push({ id, name: rec.name, source });
    names(
      id,
      [
        [[rec.name], 'preferred', 'en'],
        [rec.synonyms, 'generic', 'en'],
        [rec.brands, 'brand', 'en'],
        [rec.names_zh, 'chinese', 'zh'],
      ],
      source,
    );
    for (const i of rec.ingredients) fact('has_ingredient', id, ref(i, 'ingredient'), {}, source);
  }
  for (const { where, rec } of parsed.conditions ?? []) {
    const id = ref(rec.id, 'condition');
    const source = src(rec.source, where);
    entities.push({ id, name: rec.name, source });
    names(
      id,
      [
        [[rec.name], 'preferred', 'en'],
        [rec.synonyms, 'generic', 'en'],
        [rec.names_zh, 'chinese', 'zh'],
      ],
      source,
    );
    for (const p of rec.parents) fact('member_of_class', id, ref(p, 'condition'), {}, source);
    for (const code of rec.icd10) fact('coded_as', id, null, { system: 'icd10', code }, source);
  }
  for (const { where, rec } of parsed.allergens ?? []) {
    const id = ref(rec.id, 'allergen_class');
    const source = src(rec.source, where);
    entities.push({ id, name: rec.name, source });
    names(
      id,
      [
        [[rec.name], 'preferred', 'en'],
        [rec.names, 'generic', 'en'],
        [rec.names_zh, 'chinese', 'zh'],
      ],
      source,
    );
  }
  for (const { where, rec } of parsed.lab_tests ?? []) {
    const id = ref(rec.id, 'lab_test');
    const source = src(rec.source, where);
    entities.push({ id, name: rec.name, attrs: rec.unit ? { unit: rec.unit } : {}, source });
    names(
      id,
      [
        [[rec.name], 'preferred', 'en'],
        [rec.synonyms, 'generic', 'en'],
      ],
      source,
    );
    for (const code of rec.loinc) fact('coded_as', id, null, { system: 'loinc', code }, source);
  }
  for (const { where, rec } of parsed.interactions ?? []) {
    fact(
      'interacts_with',
      ref(rec.a, 'ingredient'),
      ref(rec.b, 'ingredient'),
      { severity: rec.severity, mechanism: rec.mechanism, management: rec.management },
      src(rec.source, where),
    );
  }
  for (const { where, rec } of parsed.contraindications ?? []) {
    fact(
      'contraindicated_in',
      ref(rec.drug, 'ingredient'),
      ref(rec.condition, 'condition'),
      { severity: rec.severity, note: rec.note },
      src(rec.source, where),
    );
  }
  for (const { where, rec } of parsed.cross_reactivity ?? []) {
    fact(
      'cross_reacts_with',
      ref(rec.allergen, 'allergen_class'),
      ref(rec.target, 'drug_class'),
      { severity: rec.severity, note: rec.note, sameClass: rec.same_class },
      src(rec.source, where),
    );
  }
  for (const { where, rec } of parsed.dose_ranges ?? []) {
    const renal = rec.renal_metric ? { metric: rec.renal_metric, min: rec.renal_min, max: rec.renal_max } : null;
    fact(
      'dose_range',
      ref(rec.drug, 'ingredient'),
      null,
      {
        route: rec.route,
        ageMin: rec.age_min ?? 18,
        ageMax: rec.age_max,
        renal,
        unit: rec.unit,
        per: rec.per,
        min: rec.min,
        max: rec.max,
        action: rec.action,
        note: rec.note,
        ...(rec.criteria ? { criteria: rec.criteria } : {}),
      },
      src(rec.source, where),
    );
  }
  for (const { where, rec } of parsed.monitoring ?? [])
    fact('monitors', ref(rec.drug, 'ingredient'), ref(rec.lab, 'lab_test'), { note: rec.note }, src(rec.source, where));
  for (const { where, rec } of parsed.treats ?? [])
    fact(
      'treats',
      ref(rec.drug, 'ingredient'),
      ref(rec.condition, 'condition'),
      rec.alternative ? { note: rec.note } : { note: rec.note, alternative: false },
      src(rec.source, where),
    );
  for (const { where, rec } of parsed.guidelines ?? [])
    fact(
      'guideline_recommendation',
      ref(rec.subject, 'condition'),
      null,
      { statement: rec.statement },
      src(rec.source, where),
    );
  for (const { where, rec } of parsed.aliases ?? [])
    fact(
      'known_as',
      rec.entity,
      null,
      { name: rec.name, kind: rec.kind, lang: rec.lang || 'en' },
      src(rec.source, where),
    );
  for (const { where, rec } of parsed.memberships ?? [])
    fact('member_of_class', ref(rec.member, 'ingredient'), ref(rec.class, 'drug_class'), {}, src(rec.source, where));
  for (const { where, rec } of parsed.older_adult ?? [])
    fact(
      'older_adult',
      ref(rec.drug, 'ingredient'),
      null,
      {
        ageMin: rec.age_min ?? 65,
        action: rec.action,
        condition: rec.condition ? ref(rec.condition, 'condition') : null,
        with: rec.with ? ref(rec.with, 'ingredient') : null,
        rationale: rec.rationale,
        recommendation: rec.recommendation,
        quality: rec.quality,
        strength: rec.strength,
        minCount: rec.min_count ?? null,
      },
      src(rec.source, where),
    );
  for (const { where, rec } of parsed.codes ?? [])
    fact('coded_as', rec.entity, null, { system: rec.system, code: rec.code }, src(rec.source, where));

  const firstDefined = new Map<string, string>();
  for (const type of ['classes', 'ingredients', 'products', 'conditions', 'allergens', 'lab_tests'] as const)
    for (const { where, rec } of parsed[type] ?? []) {
      const id = ref(rec.id, ENTITY_TYPE_OF_RECORD[type]);
      const first = firstDefined.get(id);
      if (first) problems.push({ pointer: `${where} column id`, message: `${id} is already defined at ${first}` });
      else firstDefined.set(id, where);
    }

  if (problems.length)
    throw new KbError(
      'KB_IMPORT_INVALID',
      `${problems.length} invalid record(s); first: ${problems[0]!.pointer}: ${problems[0]!.message}`,
      problems,
    );
  return { entities, facts };
}

/**
 * Read a folder of `<type>.csv` files — and, in each sub-folder (a *pack*, e.g. `kb/starter/onc/`,
 * read in name order after the folder itself), more files of the same types — or one JSON file
 * `{ "<type>": [ … ] }`. Every record keeps where it came from (`onc/interactions.csv line 4`).
 */
export function readRecords(location: string): RawRecords {
  if (!existsSync(location)) throw new KbError('KB_IMPORT_INVALID', `${location} does not exist`);
  const raw: RawRecords = {};
  if (statSync(location).isDirectory()) {
    const folders = [
      '',
      ...readdirSync(location, { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort(),
    ];
    let found = 0;
    for (const folder of folders) {
      for (const type of RECORD_ORDER) {
        const file = path.join(location, folder, `${type}.csv`);
        if (!existsSync(file)) continue;
        found++;
        const name = folder ? `${folder}/${type}.csv` : `${type}.csv`;
        let rows: ReturnType<typeof parseCsv>['rows'];
        try {
          rows = parseCsv(readFileSync(file, 'utf8')).rows;
        } catch (err) {
          if (err instanceof KbError) throw new KbError(err.code, `${name}: ${err.message}`, err.details);
          throw err;
        }
        const list = (raw[type] ??= []);
        for (const r of rows) list.push({ where: `${name} line ${r.line}`, value: r.values });
      }
    }
    if (!found)
      throw new KbError(
        'KB_IMPORT_INVALID',
        `${location} holds none of ${RECORD_ORDER.map((t) => `${t}.csv`).join(', ')}`,
      );
    return raw;
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(location, 'utf8'));
  } catch (err) {
    throw new KbError('KB_IMPORT_INVALID', `${location} is not valid JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new KbError('KB_IMPORT_INVALID', `${location}: expected an object keyed by record type`);
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (!(RECORD_ORDER as string[]).includes(key))
      throw new KbError(
        'KB_IMPORT_INVALID',
        `${location}: unknown record type “${key}” (known: ${RECORD_ORDER.join(', ')})`,
      );
    if (!Array.isArray(value)) throw new KbError('KB_IMPORT_INVALID', `${location}: “${key}” must be an array`);
    raw[key as RecordType] = (value as unknown[]).map((v, i) => ({
      where: `${path.basename(location)} ${key}[${i}]`,
      value: v,
    }));
  }
  return raw;
}

/** Read, validate and load one folder or file in a single transaction. */
export async function importKnowledge(
  store: KnowledgeBaseStore,
  location: string,
  options: { by: string; force?: boolean },
): Promise<ImportReport> {
  const batch = recordsToBatch(readRecords(location));
  return store.importBatch(batch, { source: path.basename(location), by: options.by, force: options.force });
}
