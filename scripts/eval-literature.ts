// `npm run eval:literature`: retrieval quality of the local literature index on a question set
// with gold PMIDs under SHARED_DATA_DIR (PubMedQA's ori_pqal.json format), for the service's
// ranking and MiniSearch's default BM25, in the same run. Prints JSON; without a question set it
// says so and exits 0.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { evaluateRetrieval, parsePubmedQa, qaIndex } from '../services/literature/evaluate.js';

const config = loadConfig(process.env);
const root = config.sharedDataDir;

function find(dir: string, depth = 0): string[] {
  if (!existsSync(dir) || depth > 3) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return find(p, depth + 1);
    return /^(ori_pqal|pubmedqa.*|test_set|dev_set)\.json$/i.test(f) ? [p] : [];
  });
}

const sets = find(root);
if (!sets.length) {
  process.stdout.write(
    `${JSON.stringify({ evaluation: 'literature-retrieval', status: 'no question set', searched: root, present: existsSync(root) ? readdirSync(root) : [], note: 'put PubMedQA (ori_pqal.json) under SHARED_DATA_DIR to evaluate' }, null, 2)}\n`,
  );
  process.exit(0);
}
const results = sets.map((file) => {
  const items = parsePubmedQa(JSON.parse(readFileSync(file, 'utf8')));
  process.stderr.write(`[eval:literature] ${file}: ${items.length} questions\n`);
  // One index; the two rankings differ only in how it is searched.
  const index = qaIndex(items);
  return {
    file,
    split: path.basename(file),
    onlyOneSplit: sets.length === 1,
    tuned: evaluateRetrieval(items, 'tuned', index),
    libraryDefault: evaluateRetrieval(items, 'default', index),
  };
});
process.stdout.write(
  `${JSON.stringify({ evaluation: 'literature-retrieval', date: new Date().toISOString(), results }, null, 2)}\n`,
);
