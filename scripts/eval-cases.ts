// `npm run eval:cases [-- --write-docs] [--cases DIR]`: the clinical evaluation. Every synthetic
// case in eval/cases/ runs through `co case run` (the real graph, knowledge-driven mode, the
// starter knowledge base); src/evaluation/cases.ts scores what it returns. JSON on stdout (per
// case and overall); progress on stderr; --write-docs replaces the report between the
// eval:cases markers in docs/evaluation.md. Exit 1 when a goal is missed.
import { setMaxListeners } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { readCaseFile } from '../src/cli/case-input.js';
import { openCaseRunner } from '../src/cli/case-run.js';
import { EvalCaseFile, scoreCase, summarise, type CaseScore, type EvalSummary } from '../src/evaluation/cases.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import { MAX_PARALLEL_LISTENERS } from '../src/graphs/clinical-case/runtime.js';

// As the co command does: every parallel step of a run listens on its signal.
setMaxListeners(MAX_PARALLEL_LISTENERS);

const args = process.argv.slice(2);
const dir = path.resolve(args.includes('--cases') ? args[args.indexOf('--cases') + 1]! : 'eval/cases');
const DOCS = path.resolve('docs/evaluation.md');
const START = '<!-- eval:cases:start -->';
const END = '<!-- eval:cases:end -->';
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function markdown(summary: EvalSummary, scores: readonly CaseScore[]): string {
  const lines = [
    `${summary.cases} synthetic cases, knowledge-driven mode, starter knowledge base.`,
    '',
    '| measure | result | goal |',
    '| --- | --- | --- |',
    `| expected findings caught | ${summary.caught}/${summary.expected} (${pct(summary.caughtShare)}) | ≥ 95 % ${summary.met.caught ? '(met)' : '(**missed**)'} |`,
    `| high/critical findings with an actionable recommendation | ${summary.actionable}/${summary.highFindings} (${pct(summary.actionableShare)}) | ≥ 90 % ${summary.met.actionable ? '(met)' : '(**missed**)'} |`,
    `| unexpected high/critical findings | ${summary.unexpectedHigh} | reported |`,
    `| findings a case says must not be raised | ${summary.notExpectedRaised} | 0 |`,
    `| expected recommendation kind given | ${summary.recommendationKindMatched}/${summary.caught} | reported |`,
    `| a named acceptable alternative offered | ${summary.alternativesMatched}/${summary.alternativesNamed} | reported |`,
    `| cases that failed to run | ${summary.errors} | 0 |`,
    '',
    '| tag | cases | caught | actionable |',
    '| --- | --- | --- | --- |',
    ...Object.entries(summary.byTag)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([t, b]) => `| ${t} | ${b.cases} | ${b.caught}/${b.expected} | ${b.actionable}/${b.highFindings} |`),
    '',
    '| case | caught | actionable | missed | unexpected high/critical | not actionable |',
    '| --- | --- | --- | --- | --- | --- |',
    ...scores.map((s) =>
      `| ${path.basename(s.file, '.json')} | ${s.caught}/${s.expected} | ${s.actionable}/${s.highFindings} | ${s.error ? `run failed: ${s.error}` : s.missed.map((m) => `${m.kind} ${m.drugs.join('+')}`).join('; ')} | ${s.unexpectedHigh.map((u) => `${u.severity} ${u.kind}: ${u.summary}`).join('; ')} | ${s.notActionable.map((n) => `${n.summary} — ${n.why}`).join('; ')} |`.replace(
        /\n/g,
        ' ',
      ),
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'eval-cases-'));
  // The same starter content the runner seeds, for comparing drug names as ingredients.
  const store = await openKnowledgeBase({ sqlitePath: path.join(tmp, 'kb.sqlite') });
  const kb = await store.snapshot();
  const env = { ...process.env, OPENAI_BASE_URL: undefined, OPENAI_API_KEY: undefined, OPENAI_MODEL: undefined };
  const runner = await openCaseRunner(env);
  const scores: CaseScore[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const rel = path.relative(process.cwd(), file);
      const parsed = EvalCaseFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success)
        throw new Error(`${rel}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      try {
        const result = await runner.run(await readCaseFile(file));
        scores.push(scoreCase(kb, rel, parsed.data, result.careReasoning));
      } catch (err) {
        scores.push(scoreCase(kb, rel, parsed.data, null, err instanceof Error ? err.message : String(err)));
      }
      const s = scores.at(-1)!;
      process.stderr.write(
        `[eval:cases] ${i + 1}/${files.length} ${path.basename(file)}: caught ${s.caught}/${s.expected}, actionable ${s.actionable}/${s.highFindings}${s.error ? `, FAILED: ${s.error}` : ''}\n`,
      );
    }
  } finally {
    await runner.close();
    await store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const summary = summarise(scores);
  process.stdout.write(`${JSON.stringify({ summary, cases: scores }, null, 2)}\n`);
  process.stderr.write(
    `[eval:cases] caught ${summary.caught}/${summary.expected} (${pct(summary.caughtShare)}), actionable ${summary.actionable}/${summary.highFindings} (${pct(summary.actionableShare)}), unexpected high/critical ${summary.unexpectedHigh}\n`,
  );
  if (args.includes('--write-docs')) {
    const docs = readFileSync(DOCS, 'utf8');
    const a = docs.indexOf(START);
    const b = docs.indexOf(END);
    if (a < 0 || b < a) throw new Error(`${DOCS} has no ${START} … ${END} markers`);
    // Formatted as the repository formats markdown, so format:check stays green after a rewrite.
    const text = `${docs.slice(0, a + START.length)}\n${markdown(summary, scores)}\n${docs.slice(b)}`;
    const options = (await prettier.resolveConfig(DOCS)) ?? {};
    writeFileSync(DOCS, await prettier.format(text, { ...options, filepath: DOCS }));
    process.stderr.write(`[eval:cases] wrote the report into ${path.relative(process.cwd(), DOCS)}\n`);
  }
  if (!summary.met.caught || !summary.met.actionable || summary.errors) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`[eval:cases] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
