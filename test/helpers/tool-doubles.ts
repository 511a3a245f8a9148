/**
 * Test doubles for the tool contracts. Everything the literature and imaging doubles return is
 * SYNTHETIC TEST DATA, labelled as such in every title: not medical knowledge, not real
 * publications. The knowledge base is the real one (starter content), wrapped. All of them
 * record every request, so tests can prove what left the process.
 */
import { ToolError } from '../../src/tools/common.js';
import type { ImagingClient } from '../../src/tools/imaging/schema.js';
import type { KnowledgeBaseClient } from '../../src/domain/knowledge-client.js';
import type { KnowledgeBaseStore } from '../../src/knowledge/store.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import type { LiteratureClient } from '../../src/tools/literature/schema.js';

export const SYNTHETIC = 'SYNTHETIC TEST DATA';

export interface Recorder {
  requests: Array<{ tool: string; input: unknown }>;
}

/**
 * The real knowledge base (the in-process client over a store, e.g. the starter content from
 * `useStarterKb()`), recording every request. With `fail`, every call is recorded and then fails
 * as a slow or unreachable knowledge base would: `timeout` never answers until the step's signal
 * aborts, `down` is refused at once (retryable).
 */
export function recordingKnowledgeBase(
  store: KnowledgeBaseStore,
  recorder: Recorder,
  opts: { fail?: 'timeout' | 'down' } = {},
): KnowledgeBaseClient {
  const real = new LocalKnowledgeBaseClient(store);
  const failure = (signal: AbortSignal): Promise<never> | undefined => {
    if (opts.fail === 'down') return Promise.reject(new ToolError('UNREACHABLE', 'connection refused', true));
    if (opts.fail === 'timeout')
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    return undefined;
  };
  return {
    lookup(input, signal) {
      recorder.requests.push({ tool: 'kb.lookup', input });
      return failure(signal) ?? real.lookup(input, signal);
    },
    check(input, signal) {
      recorder.requests.push({ tool: `kb.check.${input.kind}`, input });
      return failure(signal) ?? real.check(input, signal);
    },
    reason(input, signal) {
      recorder.requests.push({ tool: 'kb.reason', input });
      return failure(signal) ?? real.reason(input, signal);
    },
    mentions(input, signal) {
      recorder.requests.push({ tool: 'kb.mentions', input });
      return failure(signal) ?? real.mentions(input, signal);
    },
  };
}

export function fakeLiterature(recorder: Recorder): LiteratureClient {
  return {
    search(query) {
      recorder.requests.push({ tool: 'literature.search', input: query });
      return Promise.resolve({
        data: {
          query: query.terms.join(' AND '),
          citations: [
            {
              pmid: '0',
              title: `${SYNTHETIC}: not a real publication about ${query.terms[0] ?? 'nothing'}`,
              journal: 'Test Fixture Journal',
              year: 2000,
              authors: [],
              publicationTypes: [],
              mesh: [],
              abstract: null,
              snippet: null,
              quote: null,
              evidenceLevel: 'other' as const,
            },
          ],
        },
        version: 'test-literature',
      });
    },
    lookup(query) {
      recorder.requests.push({ tool: 'literature.lookup', input: query });
      return Promise.resolve({ data: [], version: 'test-literature' }); // knows no records: finds none
    },
  };
}

export function fakeImaging(recorder: Recorder): ImagingClient {
  return {
    analyse(input) {
      recorder.requests.push({ tool: 'imaging.analyse', input });
      return Promise.resolve({
        data: {
          studyRef: input.studyRef,
          findings: [
            {
              id: 'f1',
              label: `${SYNTHETIC} pneumonia`,
              score: 0.5,
              threshold: 0.5,
              indeterminateBand: [0.4, 0.6] as [number, number],
              interpretation: 'indeterminate' as const,
              model: { name: 'test-double', version: '0' },
            },
          ],
          preprocessing: [],
        },
        version: 'test-imaging',
      });
    },
  };
}
