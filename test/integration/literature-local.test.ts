/**
 * Literature out of the box: with neither LITERATURE_BASE_URL nor LITERATURE_CORPUS set, the
 * shared PubMedQA corpus (SHARED_DATA_DIR/pubmedqa/corpus.jsonl) is used when it is there, served
 * by the local E-utilities service in the worker's (or `co`'s) own process over a loopback socket,
 * with the index persisted. The corpus here is a SYNTHETIC two-record file in PubMedQA's shape,
 * in a temporary SHARED_DATA_DIR; the real one is read by the evaluation (npm run eval:literature).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { corpusFiles, readCorpus } from '../../services/literature/corpus.js';
import { openToolBox } from '../../workers/graph-setup.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lit-local-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const shared = path.join(dir, 'shared');
mkdirSync(path.join(shared, 'pubmedqa'), { recursive: true });
const corpus = path.join(shared, 'pubmedqa', 'corpus.jsonl');
writeFileSync(
  corpus,
  [
    {
      pmid: '101',
      year: '2019',
      mesh: ['Atrial Fibrillation', 'Humans'],
      sections: [
        { label: 'BACKGROUND', text: 'SYNTHETIC record: anticoagulation in atrial fibrillation.' },
        { label: 'RESULTS', text: 'Stroke was less frequent with warfarin.' },
      ],
      conclusion: 'In atrial fibrillation, warfarin reduced stroke.',
    },
    {
      pmid: '102',
      year: '2020',
      mesh: ['Hypertension, Portal'],
      sections: [{ label: 'METHODS', text: 'SYNTHETIC record: variceal bleeding.' }],
      conclusion: 'Banding controlled bleeding.',
    },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n'),
);

describe('literature on by default', () => {
  it('uses the shared corpus when nothing is configured; not when a URL or LITERATURE_LOCAL=off says otherwise', () => {
    expect(loadConfig({ SHARED_DATA_DIR: shared }).literature.corpus).toBe(corpus);
    expect(loadConfig({ SHARED_DATA_DIR: shared, LITERATURE_LOCAL: 'off' }).literature.corpus).toBeUndefined();
    expect(
      loadConfig({ SHARED_DATA_DIR: shared, LITERATURE_BASE_URL: 'https://eutils.ncbi.nlm.nih.gov/entrez/eutils' })
        .literature.corpus,
    ).toBeUndefined();
    expect(loadConfig({ SHARED_DATA_DIR: path.join(dir, 'nowhere') }).literature.corpus).toBeUndefined();
  });

  it('reads PubMedQA JSONL as structured abstracts, CONCLUSIONS last', async () => {
    const records = [];
    for await (const r of readCorpus(corpusFiles(corpus))) records.push(r);
    expect(records.map((r) => [r.pmid, r.year, r.abstract])).toEqual([
      [
        '101',
        2019,
        'BACKGROUND: SYNTHETIC record: anticoagulation in atrial fibrillation. RESULTS: Stroke was less frequent with warfarin. CONCLUSIONS: In atrial fibrillation, warfarin reduced stroke.',
      ],
      ['102', 2020, 'METHODS: SYNTHETIC record: variceal bleeding. CONCLUSIONS: Banding controlled bleeding.'],
    ]);
  });

  it('serves the corpus from the tool box’s own process, with the index persisted and reused', async () => {
    const indexDir = path.join(dir, 'index');
    const config = loadConfig({
      SHARED_DATA_DIR: shared,
      DATA_DIR: path.join(dir, 'data'),
      LITERATURE_INDEX_DIR: indexDir,
    });
    const phases: string[] = [];
    const first = await openToolBox(config, { literatureProgress: (_d, _t, phase) => phases.push(phase) });
    try {
      const { data, version } = await first.tools.literature!.search(
        { intent: 'AF anticoagulation', terms: ['atrial fibrillation', 'warfarin'] },
        new AbortController().signal,
      );
      expect(version).toBe('local-pubmed');
      expect(data.citations.map((c) => c.pmid)).toEqual(['101']);
      expect(data.citations[0]!.quote).toMatchObject({
        section: 'CONCLUSIONS',
        text: 'In atrial fibrillation, warfarin reduced stroke.',
      });
    } finally {
      await first.close();
    }
    expect(phases).toContain('indexing');
    expect(readdirSync(indexDir).some((f) => f.endsWith('.bm25'))).toBe(true);
    const again: string[] = [];
    const second = await openToolBox(config, { literatureProgress: (_d, _t, phase) => again.push(phase) });
    await second.close();
    expect(again).toEqual(['loading persisted index']);
    expect(existsSync(corpus)).toBe(true);
  });
});
