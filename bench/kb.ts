/**
 * `npm run bench:kb`: knowledge-base speed. JSON on stdout, progress on stderr.
 *
 * 1. Safety checks for a 20-drug medication list (all 190 pairs for interactions, plus allergy
 *    and dose checks) over the starter content on SQLite: p50/p99 per check and for the three
 *    together, pure (over the cached snapshot) and through the graph's client (input
 *    validation, revision query, fact serialisation). Target: under 5 ms. The baseline
 *    measured in the same run is the straightforward store-backed way: resolve names and walk
 *    class memberships with SQL, then one interaction query per pair.
 * 2. Import of a licensed-compendium-sized synthetic set (500k interaction rules among 20k
 *    ingredients; CSV → validation → one transaction) against the floor of inserting the same
 *    rows straight into the facts table.
 * 3. The same 20-drug checks with that set loaded on top of the starter content (the 20 drugs
 *    each get synthetic rules too, so the checks walk long rule lists), and the snapshot
 *    rebuild after one applied edit, at both sizes.
 *
 * Environment: BENCH_KB_ITERATIONS (default 2000), BENCH_KB_ROWS (default 500000),
 * BENCH_KB_INGREDIENTS (default 20000).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqlite, type SqlDatabase } from '../src/infra/sql.js';
import { runCheck } from '../src/knowledge/checks.js';
import { LocalKnowledgeBaseClient } from '../src/tools/knowledge-base/client.js';
import { importKnowledge } from '../src/knowledge/importer.js';
import { KB_MIGRATIONS } from '../src/knowledge/migrations.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import { SafetyCheckInput, type SafetyCheckKind } from '../src/domain/knowledge.js';
import { KnowledgeBaseStore } from '../src/knowledge/store.js';
import { migrate } from '../src/infra/sql.js';
import { foldText } from '../src/knowledge/text.js';

const ITERATIONS = Number(process.env.BENCH_KB_ITERATIONS ?? 2000);
const ROWS = Number(process.env.BENCH_KB_ROWS ?? 500_000);
const INGREDIENTS = Number(process.env.BENCH_KB_INGREDIENTS ?? 20_000);
/** Synthetic rules attached to each real starter ingredient, so checks on real drugs walk long lists. */
const RULES_PER_REAL_DRUG = 250;
const progress = (m: string) => process.stderr.write(`[bench:kb] ${m}\n`);
const dir = path.join(os.tmpdir(), `kb-bench-${process.pid}`);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 1000) / 1000;
};
const stats = (xs: number[]) => ({
  p50: pct(xs, 50),
  p99: pct(xs, 99),
  mean: Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000,
});

import { TWENTY_DRUGS as MEDS } from './medication-list.js';
const medications = MEDS.map(([name, value, unit, freq]) => ({
  name,
  dose: { value, unit },
  route: 'oral',
  frequencyPerDay: freq,
}));
const common = {
  medications,
  allergies: ['penicillin', 'sulfa'],
  conditions: ['CKD stage 3b', 'type 2 diabetes', 'atrial fibrillation'],
  renal: { egfr: 38, creatinineMgDl: null },
  ageBand: '78',
  sex: 'female',
  weightKg: 62,
};
const input = (kind: SafetyCheckKind) => SafetyCheckInput.parse({ kind, ...common });
const ALL_KINDS: SafetyCheckKind[] = [
  'interaction',
  'allergy',
  'dose',
  'contraindication',
  'duplicate_therapy',
  'older_adult',
];

/** Baseline: the same interaction question answered with SQL against the store, pair by pair. */
async function sqlInteractions(db: SqlDatabase, names: string[]): Promise<number> {
  const resolved: string[][] = [];
  for (const name of names) {
    const folded = foldText(name);
    const hit = await db.query<{ subject: string }>(
      "SELECT subject FROM kb_facts WHERE relation = 'known_as' AND status = 'active' AND lower(json_extract(attrs, '$.name')) IN (?, ?)",
      [folded, folded.split(' ')[0]!],
    );
    const start = hit[0]?.subject;
    if (!start) {
      resolved.push([]);
      continue;
    }
    const anc = await db.query<{ id: string }>(
      "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT f.object FROM kb_facts f JOIN up ON f.subject = up.id WHERE f.relation = 'member_of_class' AND f.status = 'active') SELECT id FROM up",
      [start],
    );
    resolved.push(anc.map((r) => r.id));
  }
  let found = 0;
  for (let i = 0; i < resolved.length; i++) {
    for (let j = i + 1; j < resolved.length; j++) {
      const a = resolved[i]!;
      const b = resolved[j]!;
      if (!a.length || !b.length) continue;
      const pa = a.map(() => '?').join(',');
      const pb = b.map(() => '?').join(',');
      const rows = await db.query(
        `SELECT id FROM kb_facts WHERE relation = 'interacts_with' AND status = 'active' AND ((subject IN (${pa}) AND object IN (${pb})) OR (subject IN (${pb}) AND object IN (${pa})))`,
        [...a, ...b, ...b, ...a],
      );
      if (rows.length) found++;
    }
  }
  return found;
}

async function checks() {
  const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'starter.sqlite') });
  const client = new LocalKnowledgeBaseClient(store);
  const snap = await store.snapshot();
  const signal = new AbortController().signal;
  const ix = input('interaction');
  const al = input('allergy');
  const dose = input('dose');
  const pairsFlagged = runCheck(snap, ix).findings.length;
  const times = {
    interaction: [] as number[],
    allergy: [] as number[],
    dose: [] as number[],
    allThree: [] as number[],
    client: [] as number[],
    sqlBaseline: [] as number[],
  };
  for (let i = 0; i < 200; i++) runCheck(snap, ix); // warm-up
  progress(`checks: ${ITERATIONS} iterations of a 20-drug list (${pairsFlagged} interacting pairs found)`);
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    runCheck(snap, ix);
    const t1 = performance.now();
    runCheck(snap, al);
    const t2 = performance.now();
    runCheck(snap, dose);
    const t3 = performance.now();
    times.interaction.push(t1 - t0);
    times.allergy.push(t2 - t1);
    times.dose.push(t3 - t2);
    times.allThree.push(t3 - t0);
    const c0 = performance.now();
    await client.check(ix, signal);
    await client.check(al, signal);
    await client.check(dose, signal);
    times.client.push(performance.now() - c0);
  }
  const baselineRuns = Math.max(20, Math.floor(ITERATIONS / 20));
  let baselineFlagged = 0;
  for (let i = 0; i < baselineRuns; i++) {
    const t0 = performance.now();
    baselineFlagged = await sqlInteractions(
      store.db,
      MEDS.map((m) => m[0]),
    );
    times.sqlBaseline.push(performance.now() - t0);
  }
  // Cold path: what the first check after a revision change pays (load active rows, build the indexes).
  const entities = await store.db.query("SELECT id FROM kb_entities WHERE status = 'active'");
  const facts = await store.db.query("SELECT id FROM kb_facts WHERE status = 'active'");
  const rebuild: number[] = [];
  for (let i = 0; i < 20; i++) {
    const fresh = await KnowledgeBaseStore.open(store.db);
    const t0 = performance.now();
    await fresh.snapshot();
    rebuild.push(performance.now() - t0);
  }
  await store.close();
  const all = stats(times.allThree);
  return {
    medications: MEDS.length,
    pairs: (MEDS.length * (MEDS.length - 1)) / 2,
    interactingPairsFound: pairsFlagged,
    sqlBaselinePairsFound: baselineFlagged,
    iterations: ITERATIONS,
    msPure: {
      interaction: stats(times.interaction),
      allergy: stats(times.allergy),
      dose: stats(times.dose),
      allThree: all,
    },
    msThroughClient: stats(times.client),
    msSqlBaselineInteractionOnly: stats(times.sqlBaseline),
    baselineRuns,
    speedupInteractionP50VsSql: Math.round((pct(times.sqlBaseline, 50) / pct(times.interaction, 50)) * 10) / 10,
    target5msMet: { pureP99: all.p99 < 5, clientP99: pct(times.client, 99) < 5 },
    snapshotRebuildMs: stats(rebuild),
    snapshotSize: { entities: entities.length, facts: facts.length },
    note: 'snapshot rebuild happens once per knowledge-base revision change, not per check',
  };
}

/**
 * A compendium-sized synthetic set as the importer's CSV: `ingredients` synthetic ingredients,
 * `rows` interaction rules among them, plus RULES_PER_REAL_DRUG rules from each of the 20
 * benchmark drugs' ingredients to synthetic ones (counted in `rows`).
 */
function writeSyntheticSet(folder: string, rows: number, ingredients: number, realDrugs: string[]): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, 'sources.csv'),
    'key,label,citation\nsyn,Synthetic benchmark data,"Generated by bench/kb.ts; not clinical data"\n',
  );
  const ing = ['id,name,synonyms,source'];
  for (let i = 0; i < ingredients; i++) ing.push(`syn-${i},Synthdrug ${i},synthdrug-${i}-alias,syn`);
  writeFileSync(path.join(folder, 'ingredients.csv'), `${ing.join('\n')}\n`);
  const ix = ['a,b,severity,mechanism,management,source'];
  const sev = ['low', 'moderate', 'high', 'critical'];
  let written = 0;
  for (const real of realDrugs)
    for (let k = 0; k < RULES_PER_REAL_DRUG && written < rows; k++, written++)
      ix.push(
        `${real},syn-${(k * 79 + real.length) % ingredients},${sev[k % 4]},Synthetic mechanism ${written}.,Synthetic management.,syn`,
      );
  for (let step = 1; written < rows; step++) {
    for (let i = 0; i < ingredients && written < rows; i++) {
      ix.push(
        `syn-${i},syn-${(i + step) % ingredients},${sev[(i + step) % 4]},Synthetic mechanism ${written}.,Synthetic management.,syn`,
      );
      written++;
    }
  }
  writeFileSync(path.join(folder, 'interactions.csv'), `${ix.join('\n')}\n`);
}

/** All six check kinds for the 20-drug list, pure and through the graph's client. */
/**
 * A long-running worker checks long after its snapshot was built: collect the garbage of the
 * import and the build first (needs `node --expose-gc`, as npm run bench:kb runs it), so the
 * figures are the steady state; the build itself is timed on its own.
 */
const gc = (globalThis as { gc?: () => void }).gc;
const settle = () => gc?.();

async function allChecks(store: KnowledgeBaseStore, iterations: number) {
  const client = new LocalKnowledgeBaseClient(store);
  const signal = new AbortController().signal;
  const inputs = ALL_KINDS.map(input);
  const snap = await store.snapshot();
  for (let i = 0; i < 50; i++) for (const x of inputs) runCheck(snap, x);
  settle();
  const pure: number[] = [];
  const viaClient: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    for (const x of inputs) runCheck(snap, x);
    pure.push(performance.now() - t0);
    const c0 = performance.now();
    for (const x of inputs) await client.check(x, signal);
    viaClient.push(performance.now() - c0);
  }
  const findings = Object.fromEntries(inputs.map((x) => [x.kind, runCheck(snap, x).findings.length]));
  return {
    kinds: ALL_KINDS,
    iterations,
    gcBeforeMeasuring: gc !== undefined,
    findings,
    msPure: stats(pure),
    msThroughClient: stats(viaClient),
  };
}

/**
 * What one applied edit costs the next check: propose and apply a change to one interaction
 * rule, then time the first check (which rebuilds the snapshot) against a warm one.
 */
async function editRebuild(store: KnowledgeBaseStore, rounds: number) {
  const client = new LocalKnowledgeBaseClient(store);
  const signal = new AbortController().signal;
  const x = input('interaction');
  const factId = 'ix:class:anticoagulants~class:nsaids';
  const fact = await store.getFact(factId);
  if (!fact) throw new Error(`bench needs ${factId}`);
  const firstCheck: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const edit = await store.propose(
      {
        operation: {
          op: 'change_fact',
          factId,
          attrs: { ...fact.attrs, management: `${String(fact.attrs.management)} (${i})` },
        },
        reason: 'benchmark edit',
      },
      'bench-proposer',
    );
    await store.decide(edit.id, { action: 'apply', by: 'bench-editor' });
    const t0 = performance.now();
    await client.check(x, signal);
    firstCheck.push(performance.now() - t0);
    const t1 = performance.now();
    await client.check(x, signal);
    warm.push(performance.now() - t1);
  }
  return { rounds, msFirstCheckAfterEdit: stats(firstCheck), msWarmCheck: stats(warm) };
}

async function imports() {
  const folder = path.join(dir, 'synthetic');
  // The ingredients of the 20-drug list, so its checks walk long rule lists.
  const realDrugs = [
    'warfarin',
    'lisinopril',
    'spironolactone',
    'metformin',
    'atorvastatin',
    'amlodipine',
    'furosemide',
    'omeprazole',
    'sertraline',
    'gabapentin',
    'levothyroxine',
    'allopurinol',
    'paracetamol',
    'ibuprofen',
    'clopidogrel',
    'tramadol',
    'digoxin',
    'bisoprolol',
    'tamsulosin',
    'donepezil',
  ];
  writeSyntheticSet(folder, ROWS, INGREDIENTS, realDrugs);
  progress(`import: ${ROWS} synthetic interaction rows, ${INGREDIENTS} ingredients, on top of the starter content`);
  const rssBefore = process.memoryUsage().rss;
  const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'large.sqlite') });
  const t0 = performance.now();
  const report = await importKnowledge(store, folder, { by: 'bench' });
  const importMs = performance.now() - t0;
  const rssAfter = process.memoryUsage().rss;
  progress(`import: ${Math.round(importMs)} ms (${report.facts.added} facts added)`);
  const t1 = performance.now();
  const again = await importKnowledge(store, folder, { by: 'bench' });
  const reimportMs = performance.now() - t1;
  const rows = await store.db.query("SELECT * FROM kb_facts WHERE source LIKE '%Synthetic benchmark%'");
  const entityRows = await store.db.query('SELECT * FROM kb_entities');

  // Floor: the same rows inserted straight into empty tables (no CSV, no validation, no history).
  const raw = openSqlite(path.join(dir, 'raw.sqlite'));
  await migrate(raw, 'kb', KB_MIGRATIONS);
  const cols = [
    'id',
    'relation',
    'subject',
    'object',
    'attrs',
    'source',
    'added_by',
    'added_at',
    'version',
    'status',
    'updated_at',
    'edit_id',
  ];
  const ecols = [
    'id',
    'type',
    'name',
    'attrs',
    'source',
    'added_by',
    'added_at',
    'version',
    'status',
    'updated_at',
    'edit_id',
  ];
  const values = rows.map((r) => cols.map((c) => (r[c] ?? null) as string | number | null));
  const evalues = entityRows.map((r) => ecols.map((c) => (r[c] ?? null) as string | number | null));
  const t2 = performance.now();
  await raw.transaction(async (tx) => {
    await tx.insertMany('kb_entities', ecols, evalues);
    await tx.insertMany('kb_facts', cols, values);
  });
  const rawMs = performance.now() - t2;
  await raw.close();
  const counts = await store.db.query<{ relation: string; n: number }>(
    "SELECT relation, COUNT(*) AS n FROM kb_facts WHERE status = 'active' GROUP BY relation",
  );
  const t3 = performance.now();
  await store.snapshot();
  const snapshotMs = performance.now() - t3;
  progress(`large: snapshot built in ${Math.round(snapshotMs)} ms; checks and edit rebuilds`);
  const large = {
    activeFacts: Object.fromEntries(counts.map((c) => [c.relation, Number(c.n)])),
    snapshotBuildMs: Math.round(snapshotMs),
    checks: await allChecks(store, Math.max(500, Math.floor(ITERATIONS / 2))),
    rebuildAfterEdit: await editRebuild(store, 5),
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  };
  await store.close();
  return {
    import: {
      rows: ROWS,
      ingredients: INGREDIENTS,
      factsAdded: report.facts.added,
      importMs: Math.round(importMs),
      rowsPerSecond: Math.round(ROWS / (importMs / 1000)),
      reimportUnchangedMs: Math.round(reimportMs),
      reimportUnchanged: again.facts.unchanged,
      rawInsertBaselineMs: Math.round(rawMs),
      ratioToRawInsert: Math.round((importMs / rawMs) * 10) / 10,
      rssGrowthMb: Math.round((rssAfter - rssBefore) / 1e6),
      note: 'import = read CSV + validate every row + write entities, facts and history in one transaction (SQLite)',
    },
    large,
  };
}

async function main() {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  try {
    const checkResults = await checks();
    const starter = await openKnowledgeBase({ sqlitePath: path.join(dir, 'starter.sqlite') });
    progress('starter: all six checks and edit rebuilds');
    const starterAll = {
      checks: await allChecks(starter, ITERATIONS),
      rebuildAfterEdit: await editRebuild(starter, 20),
    };
    await starter.close();
    const { import: importResults, large } = await imports();
    process.stdout.write(
      `${JSON.stringify(
        {
          benchmark: 'knowledge-base',
          date: new Date().toISOString(),
          node: process.version,
          cpus: os.cpus().length,
          checks: checkResults,
          starterAllChecks: starterAll,
          import: importResults,
          large,
          target5msMet: {
            starterClientP99: starterAll.checks.msThroughClient.p99 < 5,
            largeClientP99: large.checks.msThroughClient.p99 < 5,
          },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
