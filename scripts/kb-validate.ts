// Check a knowledge folder (default kb/starter, with its packs) without touching any database:
// every row is validated, every reference must name an entity the folder defines, and the
// whole batch is loaded into a throw-away SQLite file. Prints the counts per relation as JSON.
//   npm run kb:validate [-- <folder|file.json>]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KbError } from '../src/knowledge/errors.js';
import { readRecords, recordsToBatch } from '../src/knowledge/importer.js';
import { referencedEntities } from '../src/knowledge/model.js';
import { openKnowledgeBase, STARTER_DIR } from '../src/knowledge/open.js';

const location = path.resolve(process.argv[2] ?? STARTER_DIR);
const fail = (lines: string[]) => {
  for (const l of lines) process.stderr.write(`${l}\n`);
  process.stderr.write('[kb:validate] FAILED\n');
  process.exit(1);
};

async function main(): Promise<void> {
  const raw = readRecords(location);
  const batch = recordsToBatch(raw);
  const defined = new Set(batch.entities.map((e) => e.id));
  const missing = new Map<string, number>();
  for (const f of batch.facts)
    for (const id of referencedEntities({ subject: f.subject, object: f.object ?? null, attrs: f.attrs ?? {} }))
      if (!defined.has(id)) missing.set(id, (missing.get(id) ?? 0) + 1);
  if (missing.size)
    fail([
      `[kb:validate] ${missing.size} referenced entities are defined nowhere in ${location}:`,
      ...[...missing].map(([id, n]) => `  ${id} (${n} fact${n === 1 ? '' : 's'})`),
    ]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kb-validate-'));
  try {
    const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'kb.sqlite'), seed: null });
    try {
      const report = await store.importBatch(batch, { source: path.basename(location), by: 'kb-validate' });
      const byRelation: Record<string, number> = {};
      for (const f of batch.facts) byRelation[f.relation] = (byRelation[f.relation] ?? 0) + 1;
      const byType: Record<string, number> = {};
      for (const e of batch.entities) {
        const prefix = e.id.slice(0, e.id.indexOf(':'));
        byType[prefix] = (byType[prefix] ?? 0) + 1;
      }
      process.stdout.write(
        `${JSON.stringify(
          {
            location,
            records: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v?.length ?? 0])),
            entities: byType,
            facts: byRelation,
            imported: { entities: report.entities.added, facts: report.facts.added, ms: report.durationMs },
          },
          null,
          2,
        )}\n`,
      );
      process.stderr.write('[kb:validate] ok\n');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  if (err instanceof KbError)
    fail([
      `[kb:validate] ${err.code}: ${err.message}`,
      ...err.details.slice(0, 200).map((d) => `  ${d.pointer}: ${d.message}`),
      ...(err.details.length > 200 ? [`  … and ${err.details.length - 200} more`] : []),
    ]);
  fail([`[kb:validate] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`]);
});
