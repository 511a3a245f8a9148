// `npm run eval:literature`: the literature evaluation. JSON on stdout, progress on stderr.
//
// 1. Ranking: the 500 PubMedQA development questions (SHARED_DATA_DIR/pubmedqa/questions-dev.jsonl,
//    each question's gold document is its own PMID) searched in an index of the 1,000-record
//    corpus (corpus.jsonl): recall@1/5/10 and MRR for the service's ranking and the library-default
//    BM25 (MiniSearch's settings) in the same run, on the same index. The official test split is
//    not in the shared data: these are development-set figures.
// 2. Relevance: the judged step queries of eval/literature/relevance.jsonl (problem, drugs, records
//    judged relevant or not): the relevance decision of the literature step (relevance.ts) for each
//    judged record, with precision and recall of "relevant" at each threshold.
// Also reads PubMedQA's original ori_pqal.json if one is found under SHARED_DATA_DIR.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig, SHARED_LITERATURE_CORPUS } from '../src/config.js';
import { decideRecords, relevanceRequest, type RelevanceThreshold } from '../src/graphs/clinical-case/relevance.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import { LocalKnowledgeBaseClient } from '../src/tools/knowledge-base/client.js';
import type { PubmedRecord } from '../src/tools/literature/pubmed-xml.js';
import { corpusFiles, readCorpus } from '../services/literature/corpus.js';
import { evaluateRetrieval, parsePubmedQa, qaIndex, type QaItem } from '../services/literature/evaluate.js';
import { LiteratureIndex } from '../services/literature/search-index.js';

const progress = (m: string) => process.stderr.write(`[eval:literature] ${m}\n`);
const config = loadConfig(process.env);
const root = config.sharedDataDir;
const corpusFile = path.join(root, SHARED_LITERATURE_CORPUS);
const questionsFile = path.join(root, 'pubmedqa', 'questions-dev.jsonl');
const JUDGED = path.resolve('eval/literature/relevance.jsonl');

const Question = z.object({ pmid: z.string(), question: z.string(), final_decision: z.string().optional() });
const Judged = z.object({
  id: z.string(),
  problem: z.string(),
  drugs: z.array(z.string()).default([]),
  judgements: z.array(z.object({ pmid: z.string(), relevant: z.boolean(), why: z.string().optional() })).min(1),
});
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

async function main(): Promise<void> {
  const out: Record<string, unknown> = { evaluation: 'literature', date: new Date().toISOString() };
  if (!existsSync(corpusFile) || !existsSync(questionsFile)) {
    out.status = 'no question set';
    out.note = `expected ${corpusFile} and ${questionsFile} (see ../shared/data/pubmedqa/SOURCE.md)`;
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const records: PubmedRecord[] = [];
  for await (const r of readCorpus(corpusFiles(corpusFile))) records.push(r);
  const byPmid = new Map(records.map((r) => [r.pmid, r]));
  const questions = readFileSync(questionsFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => Question.parse(JSON.parse(l)));
  progress(`${records.length} records, ${questions.length} development questions`);
  const index = LiteratureIndex.fromRecords(records);
  const items: QaItem[] = questions.map((q) => ({
    pmid: q.pmid,
    question: q.question,
    contexts: [],
    mesh: [],
    year: null,
  }));
  out.ranking = {
    split: 'PubMedQA PQA-L development questions (the official test split is not in the shared data)',
    corpus: corpusFile,
    questionsWithGoldInCorpus: questions.filter((q) => byPmid.has(q.pmid)).length,
    tuned: evaluateRetrieval(items, 'tuned', index),
    libraryDefault: evaluateRetrieval(items, 'default', index),
  };

  const original = path.join(root, 'pubmedqa', 'ori_pqal.json');
  if (existsSync(original)) {
    const qa = parsePubmedQa(JSON.parse(readFileSync(original, 'utf8')));
    const idx = qaIndex(qa);
    out.ori_pqal = {
      tuned: evaluateRetrieval(qa, 'tuned', idx),
      libraryDefault: evaluateRetrieval(qa, 'default', idx),
    };
  }

  if (existsSync(JUDGED)) out.relevance = await relevance(byPmid);
  else out.relevance = { status: `no judged set at ${JUDGED}` };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** The relevance decision on every judged record, at both thresholds, against the judgements. */
async function relevance(byPmid: ReadonlyMap<string, PubmedRecord>) {
  const sets = readFileSync(JUDGED, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => Judged.parse(JSON.parse(l)));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eval-lit-'));
  const store = await openKnowledgeBase({ sqlitePath: path.join(dir, 'kb.sqlite') });
  try {
    const kb = new LocalKnowledgeBaseClient(store);
    const rows: Array<{ id: string; pmid: string; judged: boolean; decided: Record<RelevanceThreshold, boolean> }> = [];
    const missing: string[] = [];
    for (const q of sets) {
      const present = q.judgements.filter((j) => byPmid.has(j.pmid));
      missing.push(...q.judgements.filter((j) => !byPmid.has(j.pmid)).map((j) => `${q.id}:${j.pmid}`));
      const { data } = await kb.mentions(
        relevanceRequest(
          q.problem,
          q.drugs,
          present.map((j) => byPmid.get(j.pmid)!),
        ),
        new AbortController().signal,
      );
      const step = { problem: q.problem, requireDrug: q.drugs.length > 0 };
      const pmids = present.map((j) => j.pmid);
      const strong = decideRecords(step, pmids, data, 'strong');
      const any = decideRecords(step, pmids, data, 'any');
      for (const j of present) {
        rows.push({
          id: q.id,
          pmid: j.pmid,
          judged: j.relevant,
          decided: { strong: strong.get(j.pmid)!.relevant, any: any.get(j.pmid)!.relevant },
        });
      }
    }
    const score = (t: RelevanceThreshold) => {
      const tp = rows.filter((r) => r.decided[t] && r.judged).length;
      const fp = rows.filter((r) => r.decided[t] && !r.judged).length;
      const fn = rows.filter((r) => !r.decided[t] && r.judged).length;
      return {
        threshold: t,
        precision: r4(tp / (tp + fp || 1)),
        recall: r4(tp / (tp + fn || 1)),
        truePositives: tp,
        falsePositives: fp,
        falseNegatives: fn,
        falsePositiveExamples: rows
          .filter((r) => r.decided[t] && !r.judged)
          .slice(0, 8)
          .map((r) => `${r.id}:${r.pmid}`),
        falseNegativeExamples: rows
          .filter((r) => !r.decided[t] && r.judged)
          .slice(0, 8)
          .map((r) => `${r.id}:${r.pmid}`),
      };
    };
    return {
      judgedSet: JUDGED,
      queries: sets.length,
      judgements: rows.length,
      judgedRelevant: rows.filter((r) => r.judged).length,
      pmidsNotInCorpus: missing,
      thresholds: [score('strong'), score('any')],
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[eval:literature] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
