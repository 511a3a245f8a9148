/**
 * Durable checkpoints on both backends: a case drafted by one runtime is resumed by another
 * runtime with a fresh connection (as after a process restart), through a revision, to approval.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { knowledgePlanner, templateDrafter } from '../../src/agents/knowledge-mode.js';
import type { ReviewDecision } from '../../src/domain/plan.js';
import { compileClinicalCaseGraph } from '../../src/graphs/clinical-case/graph.js';
import { ClinicalCaseRuntime } from '../../src/graphs/clinical-case/runtime.js';
import { openPostgresCheckpointer, openSqliteCheckpointer, type Checkpointer } from '../../src/infra/checkpointer.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { loadExampleCases } from '../helpers/cases.js';
import { databaseUrl, testConfig, uniquePrefix } from '../helpers/env.js';
import { useStarterKb } from '../helpers/kb.js';
import { recordingKnowledgeBase, type Recorder } from '../helpers/tool-doubles.js';
import { rmSync } from 'node:fs';
import path from 'node:path';

const prefix = uniquePrefix();
// The real knowledge base with the starter content (SQLite), opened once for the file.
const starter = useStarterKb();
const sqliteFile = path.join(testConfig(prefix).dataDir, 'checkpoints.sqlite');
const backends: Array<[string, () => Promise<Checkpointer>]> = [
  ['sqlite', () => Promise.resolve(openSqliteCheckpointer(sqliteFile))],
  ['postgres', () => openPostgresCheckpointer(databaseUrl())],
];

afterAll(async () => {
  rmSync(path.dirname(sqliteFile), { recursive: true, force: true });
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  for (const table of ['checkpoint_writes', 'checkpoint_blobs', 'checkpoints']) {
    const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
    if (exists.rows[0]?.t) await client.query(`DELETE FROM ${table} WHERE thread_id LIKE $1`, [`${prefix}-%`]);
  }
  await client.end();
});

function runtimeOn(checkpointer: Checkpointer): ClinicalCaseRuntime {
  const recorder: Recorder = { requests: [] };
  return new ClinicalCaseRuntime(
    compileClinicalCaseGraph(
      {
        tools: { knowledgeBase: recordingKnowledgeBase(starter.kb().store, recorder), literature: null, imaging: null },
        planner: knowledgePlanner,
        drafter: templateDrafter,
        maxRevisions: 2,
      },
      checkpointer.saver,
    ),
  );
}

const decision = (revision: number, extra: Record<string, unknown>) =>
  ({ revision, reviewer: 'dr-ckpt', decidedAt: new Date().toISOString(), ...extra }) as ReviewDecision;
const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;

describe.each(backends)('%s checkpointer', (name, open) => {
  it('keeps a case across runtimes: draft, request changes, approve', async () => {
    const caseId = `${prefix}-${name}`;
    const submission = parseSubmission({ ...example.submission, caseId }, []);

    const first = await open();
    const drafted = await runtimeOn(first).start(submission, '2026-11-24T12:00:00.000Z', 'knowledge-driven');
    expect(drafted).toMatchObject({ kind: 'review', revision: 1 });
    await first.close();

    const second = await open();
    const runtime = runtimeOn(second);
    // Starting again after a "restart" does not redo anything: it reports the pending review.
    expect(await runtime.start(submission, '2026-11-24T12:00:00.000Z', 'knowledge-driven')).toMatchObject({
      kind: 'review',
      revision: 1,
    });
    const revised = await runtime.resume(
      caseId,
      decision(1, { action: 'request_changes', comments: 'Address the INR of 3.4.' }),
    );
    expect(revised).toMatchObject({ kind: 'review', revision: 2 });
    await second.close();

    const third = await open();
    const done = await runtimeOn(third).resume(caseId, decision(2, { action: 'approve' }));
    expect(done).toMatchObject({ kind: 'closed', status: 'approved', revision: 2 });
    if (done.kind === 'closed')
      expect(done.plan!.sections.assessment.some((r) => r.citations.includes('review:r1'))).toBe(true);
    const state = await runtimeOn(third).state(caseId);
    expect(state.values!.decisions.map((d) => d.action)).toEqual(['request_changes', 'approve']);
    await third.close();
  });
});
