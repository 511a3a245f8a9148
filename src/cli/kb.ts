/**
 * `co kb search` and `co kb check`: the knowledge base without a server. It is the embedded
 * SQLite knowledge base, created in a temporary folder and seeded like a worker's (kb/starter
 * unless KB_SEED says otherwise), read through the same code as the graph: term resolution and
 * the in-process tool client (LocalKnowledgeBaseClient).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.js';
import type { MedicationInput, SafetyCheckKind } from '../domain/knowledge.js';
import { SEVERITY_RANK } from '../domain/plan.js';
import { openKnowledgeBase } from '../knowledge/open.js';
import { resolveTerm, searchEntities } from '../knowledge/resolve.js';
import { ancestors, type KbSnapshot } from '../knowledge/snapshot.js';
import type { KnowledgeBaseStore } from '../knowledge/store.js';
import { LocalKnowledgeBaseClient, kbVersion } from '../tools/knowledge-base/client.js';
import { invalidInput, usage } from './errors.js';
import type { FactSource, KbCheckResult, KbSearchResult } from './output.js';

/** Open the knowledge base in a temporary folder, run `fn`, close and delete it. */
export async function withKnowledgeBase<T>(
  env: Readonly<Record<string, string | undefined>>,
  fn: (store: KnowledgeBaseStore) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'co-kb-'));
  try {
    const config = loadConfig({ ...env, DATA_DIR: dir, DATABASE_URL: undefined });
    const store = await openKnowledgeBase({
      sqlitePath: config.knowledgeBase.sqlitePath,
      seed: config.knowledgeBase.seed,
    });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const MAX_MATCHES = 10;

/** The entities behind suggested names (several names may be one entity's: its name and curated misspellings). */
function nearest(kb: KbSnapshot, names: readonly string[]): KbSearchResult['suggestions'] {
  const out = new Map<string, KbSearchResult['suggestions'][number]>();
  for (const name of names)
    for (const e of resolveTerm(kb, name, 'any').entities)
      if (!out.has(e.id)) out.set(e.id, { id: e.id, type: e.type, name: e.name, matchedName: name });
  return [...out.values()];
}

export async function kbSearch(store: KnowledgeBaseStore, term: string): Promise<KbSearchResult> {
  const kb = await store.snapshot();
  const r = resolveTerm(kb, term, 'any');
  const resolvedIds = new Set(r.entities.map((e) => e.id));
  return {
    term,
    version: kbVersion(kb),
    resolved: r.entities.map((e) => ({
      id: e.id,
      type: e.type,
      name: e.name,
      matchedName: e.matchedName,
      match: e.match,
      codes: kb
        .bySubject('coded_as', e.id)
        .map((f) => ({ system: String(f.attrs.system), code: String(f.attrs.code) })),
      classes: [...ancestors(kb, e.id).keys()]
        .filter((id) => id !== e.id)
        .map((id) => ({ id, name: kb.entities.get(id)?.name ?? id })),
    })),
    suggestions: nearest(kb, r.suggestions),
    matches: searchEntities(kb, term, { limit: MAX_MATCHES + resolvedIds.size })
      .filter((m) => !resolvedIds.has(m.id))
      .slice(0, MAX_MATCHES)
      .map((m) => ({ id: m.id, type: m.type, name: m.name, matchedName: m.matchedName })),
  };
}

// ---------------------------------------------------------------------------------------------
// Doses: --dose "DRUG AMOUNT UNIT [FREQUENCY] [ROUTE]", e.g. "metformin 1000 mg twice daily".

const UNITS: Record<string, string> = {
  mg: 'mg',
  milligram: 'mg',
  milligrams: 'mg',
  g: 'g',
  gram: 'g',
  grams: 'g',
  mcg: 'mcg',
  µg: 'mcg',
  ug: 'mcg',
  microgram: 'mcg',
  micrograms: 'mcg',
};

const WORD_FREQUENCIES: Array<[RegExp, number]> = [
  [/^(once (a |per )?daily|once a day|daily|od|qd)$/, 1],
  [/^(twice (a |per )?daily|twice a day|bd|bid)$/, 2],
  [/^(three times (a |per )?(daily|day)|tds|tid)$/, 3],
  [/^(four times (a |per )?(daily|day)|qds|qid)$/, 4],
  [/^(once )?weekly$/, 1 / 7],
];

/** Administrations per day from the words of a frequency; null when none is given; throws when not understood. */
export function parseFrequency(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/\s+/g, ' ');
  if (!t) return null;
  for (const [re, n] of WORD_FREQUENCIES) if (re.test(t)) return n;
  let m =
    /^(\d+(?:\.\d+)?) ?(?:x|times) ?(?:(?:a|per) ?day|daily|\/ ?day)$/.exec(t) ?? /^(\d+(?:\.\d+)?) ?\/ ?day$/.exec(t);
  if (m) return Number(m[1]);
  m = /^(?:every|q) ?(\d+(?:\.\d+)?) ?(?:h|hr|hrs|hours?)$/.exec(t);
  if (m && Number(m[1]) > 0) return 24 / Number(m[1]);
  throw usage(
    `frequency “${text}” not understood: use once daily, twice daily, three times daily, four times daily, N times daily, every N hours or weekly`,
  );
}

const ROUTE_WORDS =
  /\s+(oral|orally|po|by mouth|iv|intravenous|intravenously|im|intramuscular|sc|subcutaneous|sublingual|topical|inhaled|rectal)$/i;

export interface DoseSpec {
  name: string;
  dose: { value: number; unit: string };
  frequencyPerDay: number | null;
  route: string | null;
}

/** Parse `--dose "DRUG AMOUNT UNIT [FREQUENCY] [ROUTE]"`; throws a usage error naming what is wrong. */
export function parseDose(spec: string): DoseSpec {
  const m = /^(.+?)\s+(\d+(?:\.\d+)?)\s*([a-zµ]+)\b\s*(.*)$/i.exec(spec.trim());
  if (!m)
    throw usage(
      `--dose “${spec}”: expected "DRUG AMOUNT UNIT [FREQUENCY] [ROUTE]", e.g. "metformin 1000 mg twice daily"`,
    );
  const [, name, amount, rawUnit, rest] = m as unknown as [string, string, string, string, string];
  const unit = UNITS[rawUnit.toLowerCase()];
  if (!unit) throw usage(`--dose “${spec}”: unit “${rawUnit}” is not a mass unit (mg, g, mcg)`);
  let tail = rest.trim();
  let route: string | null = null;
  const r = ROUTE_WORDS.exec(` ${tail}`);
  if (r) {
    route = r[1]!.toLowerCase() === 'by mouth' ? 'oral' : r[1]!.toLowerCase();
    tail = ` ${tail}`.slice(0, r.index).trim();
  }
  return { name: name.trim(), dose: { value: Number(amount), unit }, frequencyPerDay: parseFrequency(tail), route };
}

// ---------------------------------------------------------------------------------------------

export interface CheckRequest {
  drugs: string[];
  doses: string[];
  allergies: string[];
  conditions: string[];
  egfr: number | null;
  age: string | null;
}

export function numberOption(name: string, value: string | undefined, min: number, max: number): number | null {
  if (value === undefined) return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw usage(`--${name} must be a number from ${min} to ${max} (got “${value}”)`);
  return n;
}

export async function kbCheck(store: KnowledgeBaseStore, req: CheckRequest): Promise<KbCheckResult> {
  const doses = req.doses.map(parseDose);
  const medications: MedicationInput[] = req.drugs.map((name) => ({
    name,
    codes: [],
    dose: null,
    route: null,
    frequencyPerDay: null,
  }));
  for (const d of doses) {
    const same = medications.find((m) => m.name.toLowerCase() === d.name.toLowerCase());
    if (same && same.dose) throw invalidInput('DUPLICATE_DOSE', `--dose given twice for ${d.name}`);
    if (same) Object.assign(same, { dose: d.dose, frequencyPerDay: d.frequencyPerDay, route: d.route });
    else medications.push({ codes: [], ...d });
  }
  if (!medications.length) throw usage('co kb check needs at least one DRUG (or a --dose)');

  const kinds: SafetyCheckKind[] = [];
  if (medications.length >= 2) kinds.push('interaction', 'duplicate_therapy');
  if (req.allergies.length) kinds.push('allergy');
  if (req.conditions.length) kinds.push('contraindication');
  if (doses.length || req.egfr !== null) kinds.push('dose');
  if (req.age !== null && Number.parseInt(req.age, 10) >= 65) kinds.push('older_adult');
  if (!kinds.length)
    throw usage(
      'nothing to check: give two or more drugs (interactions, duplicates), or --allergy, --condition, --dose or --egfr',
    );

  const client = new LocalKnowledgeBaseClient(store);
  const signal = new AbortController().signal;
  const results = [];
  let version = '';
  for (const kind of kinds) {
    const { data, version: v } = await client.check(
      {
        kind,
        medications,
        allergies: req.allergies,
        conditions: req.conditions,
        renal:
          req.egfr !== null ? { egfr: req.egfr, egfrDaysAgo: 0, creatinineMgDl: null, creatinineDaysAgo: null } : null,
        ageBand: req.age,
        requestedBy: 'co-cli',
      },
      signal,
    );
    version = v ?? version;
    results.push(data);
  }

  const facts = new Map(results.flatMap((r) => r.facts).map((f) => [f.id, f]));
  const sourceOf = (id: string): FactSource[] => {
    const f = facts.get(id);
    return f
      ? [
          {
            factId: f.id,
            statement: f.statement,
            label: f.source.label,
            citation: f.source.citation,
            url: f.source.url,
            addedBy: f.addedBy,
            addedAt: f.addedAt,
            version: f.version,
          },
        ]
      : [];
  };
  const findings = results
    .flatMap((r) => r.findings)
    .map((f) => ({ ...f, sources: f.factIds.flatMap(sourceOf) }))
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity]);
  return {
    version,
    input: {
      medications: medications.map((m) => ({
        name: m.name,
        dose: m.dose,
        frequencyPerDay: m.frequencyPerDay,
        route: m.route,
      })),
      allergies: req.allergies,
      conditions: req.conditions,
      egfr: req.egfr,
      age: req.age,
    },
    checks: results.map((r) => ({
      kind: r.kind,
      checked: r.checked,
      unknownTerms: r.unknownTerms,
      suggestions: r.suggestions ?? [],
      unchecked: r.unchecked,
      findings: r.findings.length,
    })),
    findings,
    facts: [...facts.values()],
  };
}
