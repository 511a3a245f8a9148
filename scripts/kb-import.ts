// Load a folder of CSV files or a JSON file (format: docs/knowledge-base.md) into the knowledge
// base named by the configuration (DATABASE_URL, else the SQLite file under DATA_DIR).
//   npm run kb:import -- <folder|file.json> [--force] [--by <name>]
// --force overwrites facts that were changed locally through the edit workflow.
import { loadConfig, ConfigError } from '../src/config.js';
import { KbError } from '../src/knowledge/errors.js';
import { readRecords, recordsToBatch } from '../src/knowledge/importer.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import path from 'node:path';

const args = process.argv.slice(2);
const location = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--by');
const force = args.includes('--force');
const by =
  (args.includes('--by') ? args[args.indexOf('--by') + 1] : undefined) ?? `import:${process.env.USER ?? 'cli'}`;
if (!location || args.includes('--help')) {
  process.stderr.write('usage: npm run kb:import -- <folder|file.json> [--force] [--by <name>]\n');
  process.exit(2);
}

const step = (msg: string, t0: number) =>
  process.stderr.write(`[kb:import] ${msg} (${Math.round(performance.now() - t0)} ms)\n`);

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const t0 = performance.now();
  const raw = readRecords(path.resolve(location!));
  const rows = Object.values(raw).reduce((n, list) => n + (list?.length ?? 0), 0);
  step(
    `read ${rows} records from ${location} (${Object.entries(raw)
      .map(([k, v]) => `${k}: ${v?.length ?? 0}`)
      .join(', ')})`,
    t0,
  );
  const batch = recordsToBatch(raw);
  step(`validated: ${batch.entities.length} entities, ${batch.facts.length} facts`, t0);
  const store = await openKnowledgeBase({
    databaseUrl: config.database.url,
    sqlitePath: config.knowledgeBase.sqlitePath,
    seed: config.knowledgeBase.seed,
  });
  try {
    step(
      `opened ${config.database.url ? 'PostgreSQL' : config.knowledgeBase.sqlitePath} at revision ${await store.revision()}; writing in one transaction`,
      t0,
    );
    const report = await store.importBatch(batch, { source: path.basename(location!), by, force });
    step(`done: revision ${report.revision}`, t0);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.keptLocalEdits.length)
      process.stderr.write(
        `[kb:import] kept ${report.keptLocalEdits.length} locally edited fact(s); rerun with --force to overwrite them\n`,
      );
  } finally {
    await store.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else if (err instanceof KbError) {
    process.stderr.write(`[kb:import] ${err.code}: ${err.message}\n`);
    for (const d of err.details.slice(0, 50)) process.stderr.write(`  ${d.pointer}: ${d.message}\n`);
    if (err.details.length > 50) process.stderr.write(`  … and ${err.details.length - 50} more\n`);
    process.stderr.write('[kb:import] nothing was written\n');
  } else
    process.stderr.write(`[kb:import] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
