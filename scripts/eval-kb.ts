// `npm run eval:kb [-- --pairs FILE] [--write-docs]`: run the interaction and duplicate-therapy
// checks of the starter knowledge base (kb/starter with its packs, loaded into a throw-away
// SQLite file) over the independent pairs table eval/kb/pairs.csv. JSON on stdout (rates
// overall and per group, missed pairs, false flags); progress on stderr. --write-docs replaces
// the table between the eval:kb markers in docs/knowledge-base.md. Exit 1 if a goal is missed
// (recall ≥ 95 %, false flags ≤ 5 %, unknown drugs ≤ 2 %).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCsv } from '../src/knowledge/importer.js';
import { EvalPair, evaluate, reportMarkdown } from '../src/knowledge/evaluation.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';

const args = process.argv.slice(2);
const pairsFile = path.resolve(args.includes('--pairs') ? args[args.indexOf('--pairs') + 1]! : 'eval/kb/pairs.csv');
const GOALS = { recall: 0.95, falseFlagRate: 0.05, unknownRate: 0.02 };
const DOCS = path.resolve('docs/knowledge-base.md');
const START = '<!-- eval:kb:start -->';
const END = '<!-- eval:kb:end -->';

async function main(): Promise<void> {
  const { rows } = parseCsv(readFileSync(pairsFile, 'utf8'));
  const pairs = rows.map((r) => {
    const p = EvalPair.safeParse(r.values);
    if (!p.success) throw new Error(`${path.basename(pairsFile)} line ${r.line}: ${p.error.issues[0]!.message}`);
    return p.data;
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eval-kb-'));
  try {
    const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'kb.sqlite') });
    const { report } = evaluate(await store.snapshot(), pairs);
    await store.close();
    const goals = {
      recall: (report.overall.recall ?? 0) >= GOALS.recall,
      falseFlagRate: (report.overall.falseFlagRate ?? 1) <= GOALS.falseFlagRate,
      unknownRate: report.drugs.unknownRate <= GOALS.unknownRate,
    };
    process.stdout.write(
      `${JSON.stringify({ pairsFile, goals: { targets: GOALS, met: goals }, ...report }, null, 2)}\n`,
    );
    const o = report.overall;
    process.stderr.write(
      `[eval:kb] recall ${o.caught}/${o.interacting}, false flags ${o.falseFlags}/${o.nonInteracting}, unknown drugs ${report.drugs.unknown.length}/${report.drugs.distinct}\n`,
    );
    if (args.includes('--write-docs')) {
      const docs = readFileSync(DOCS, 'utf8');
      const a = docs.indexOf(START);
      const b = docs.indexOf(END);
      if (a < 0 || b < a) throw new Error(`${DOCS} has no ${START} … ${END} markers`);
      writeFileSync(DOCS, `${docs.slice(0, a + START.length)}\n${reportMarkdown(report)}\n${docs.slice(b)}`);
      process.stderr.write(`[eval:kb] wrote the table into ${path.relative(process.cwd(), DOCS)}\n`);
    }
    if (!Object.values(goals).every(Boolean)) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[eval:kb] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
