/**
 * The hand-over from drafting to review. A review job is what lets a reviewer act, so it must
 * appear only once the case record says awaiting_review: otherwise a fast decision's resume can
 * start while the record still says running, and the drafting job's late move to
 * awaiting_review then strands the case (found by `npm run bench:load` with automated review:
 * 124 of 10,000 cases approved but never closed). Checked at the moment of every add.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseStore } from '../../src/cases/store.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { loadExampleCases } from '../helpers/cases.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { startApi, startWorker, type ApiStack, type WorkerStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const config = testConfig(prefix, { WORKER_CONCURRENCY: '8' });
let kb: TestKb;
let api: ApiStack;
let worker: WorkerStack;
const statusAtAdd: string[] = [];

beforeAll(async () => {
  kb = await openTestKb('sqlite');
  api = await startApi(config);
  worker = await startWorker(config, undefined, {
    tools: { knowledgeBase: new LocalKnowledgeBaseClient(kb.store), literature: null, imaging: null },
  });
  const store = new CaseStore(api.redis, prefix);
  const queue = worker.handle.reviewQueue;
  const add = queue.add.bind(queue);
  queue.add = (async (name, data, opts) => {
    statusAtAdd.push((await store.get(data.caseId))?.status ?? 'missing');
    return add(name, data, opts);
  }) as typeof queue.add;
});
afterAll(async () => {
  await worker?.close();
  await api?.close();
  await kb?.drop();
  await deletePrefix(prefix);
});

describe('drafting → review hand-over', () => {
  it('adds every review job only after the case record says awaiting_review', async () => {
    const examples = loadExampleCases();
    const ids = Array.from({ length: 20 }, (_, i) => `handoff-${i}`);
    await Promise.all(
      ids.map((caseId, i) =>
        api.producer.submit({ ...examples[i % examples.length]!.submission, caseId }, 'ehr-gateway'),
      ),
    );
    await waitUntil(() => Promise.resolve(statusAtAdd.length >= ids.length || undefined), 30_000, 'every review job');
    expect(statusAtAdd).toEqual(ids.map(() => 'awaiting_review'));
  });
});
