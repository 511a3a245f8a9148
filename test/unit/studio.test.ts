import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StepResult } from '../../src/domain/steps.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { loadExampleCases } from '../helpers/cases.js';

describe('LangGraph Studio export', () => {
  // The Studio entry reads its configuration from the environment, as under the LangGraph CLI.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'studio-'));
  beforeAll(() => {
    vi.stubEnv('DATA_DIR', dataDir);
    vi.stubEnv('KB_SEED', 'starter');
    vi.stubEnv('LOG_LEVEL', 'silent');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('langgraph.json points at a module that exports the compiled clinical-case graph', async () => {
    const manifest = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../langgraph.json'), 'utf8')) as {
      graphs: Record<string, string>;
    };
    const [file, name] = manifest.graphs.clinical_case!.split(':') as [string, string];
    const mod = (await import(path.resolve(import.meta.dirname, '../..', file))) as Record<
      string,
      { getGraph: () => { nodes: Record<string, unknown> } }
    >;
    const nodes = Object.keys(mod[name]!.getGraph().nodes);
    expect(nodes).toEqual(
      expect.arrayContaining(['normalise', 'decompose', 'execute_step', 'draft', 'verify', 'review', 'finalize']),
    );
  });

  it('runs the knowledge-base steps of an example case against the knowledge base seeded from kb/starter', async () => {
    const { graph } = await import('../../workers/studio.js');
    const example = loadExampleCases().find((c) => c.file === 'polypharmacy-ckd.json')!;
    const submission = parseSubmission(example.submission, []);
    const results: Record<string, StepResult> = {};
    let findingCodes: string[] | undefined;
    // Without the platform's checkpointer the review interrupt cannot be saved: stop after verification.
    const stream = await graph.stream(
      { caseId: submission.caseId, submission, receivedAt: '2026-11-24T12:00:00.000Z' },
      { streamMode: 'updates' },
    );
    for await (const update of stream) {
      if (update.execute_step) Object.assign(results, update.execute_step.results);
      if (update.verify) {
        findingCodes = (update.verify.findings ?? []).map((f) => f.code);
        break;
      }
    }
    const kbSteps = Object.values(results).filter(
      (r) => r.type !== 'literature_search' && r.type !== 'imaging_analysis',
    );
    expect(kbSteps.map((r) => r.type)).toEqual(
      expect.arrayContaining(['kb_lookup', 'interaction_check', 'allergy_check', 'dose_check']),
    );
    expect(kbSteps.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(kbSteps.flatMap((r) => r.findings).length).toBeGreaterThan(0);
    expect(findingCodes).toBeDefined();
    expect(findingCodes).not.toContain('kb_unavailable');
  });
});
