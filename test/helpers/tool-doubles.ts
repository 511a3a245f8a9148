/**
 * Test doubles for the tool contracts. Everything they return is SYNTHETIC TEST DATA, labelled
 * as such in every statement and title: not medical knowledge, not real publications. They
 * record every request, so tests can prove what left the process.
 */
import { ToolError } from '../../src/tools/common.js';
import type { ImagingClient } from '../../src/tools/imaging/schema.js';
import type { KbFact, KnowledgeBaseClient, SafetyCheckInput, SafetyFinding } from '../../src/domain/knowledge.js';
import type { LiteratureClient } from '../../src/tools/literature/schema.js';

export const SYNTHETIC = 'SYNTHETIC TEST DATA';

export interface Recorder {
  requests: Array<{ tool: string; input: unknown }>;
}

const fact = (id: string, relation: string, statement: string): KbFact => ({
  id,
  relation,
  subject: 'drug:test-subject',
  object: null,
  statement: `${SYNTHETIC}: ${statement}`,
  source: { label: 'test fixture', citation: 'test/helpers/tool-doubles.ts (not a real source)', url: null },
  addedBy: 'test',
  addedAt: '2026-01-01T00:00:00.000Z',
  version: 1,
  status: 'active',
});

/**
 * A knowledge base that knows one synthetic rule per check kind, keyed on the test drug names
 * "warfarin" + "ibuprofen" (interaction) and "penicillin"-allergic patients given "amoxicillin".
 */
export function fakeKnowledgeBase(recorder: Recorder, opts: { fail?: 'timeout' | 'down' } = {}): KnowledgeBaseClient {
  return {
    lookup(input, signal) {
      recorder.requests.push({ tool: 'kb.lookup', input });
      if (opts.fail === 'down') return Promise.reject(new ToolError('UNREACHABLE', 'connection refused', true));
      if (opts.fail === 'timeout')
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      return Promise.resolve({
        data: {
          resolved: input.terms.map((term) => ({
            term,
            entity: /unknownium/i.test(term) ? null : { id: `e:${term}`, type: 'ingredient' as const, name: term },
          })),
          facts: [],
        },
        version: 'test-kb-1',
      });
    },
    check(input: SafetyCheckInput, signal) {
      recorder.requests.push({ tool: `kb.check.${input.kind}`, input });
      if (opts.fail === 'down') return Promise.reject(new ToolError('UNREACHABLE', 'connection refused', true));
      if (opts.fail === 'timeout')
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
      const names = input.medications.map((m) => m.name);
      const findings: SafetyFinding[] = [];
      const facts: KbFact[] = [];
      if (input.kind === 'interaction' && names.includes('warfarin') && names.includes('ibuprofen')) {
        facts.push(fact('test-ix-1', 'interacts_with', 'warfarin + ibuprofen flagged by the test rule'));
        findings.push({
          kind: 'interaction',
          severity: 'high',
          summary: `${SYNTHETIC}: warfarin with ibuprofen`,
          explanation: 'test rule',
          management: 'test management: monitor INR',
          medications: ['warfarin', 'ibuprofen'],
          factIds: ['test-ix-1'],
        });
      }
      if (
        input.kind === 'allergy' &&
        (input.allergies ?? []).some((a) => /penicillin/i.test(typeof a === 'string' ? a : a.text)) &&
        names.includes('amoxicillin')
      ) {
        facts.push(
          fact('test-al-1', 'cross_reacts_with', 'amoxicillin flagged for penicillin allergy by the test rule'),
        );
        findings.push({
          kind: 'allergy',
          severity: 'critical',
          summary: `${SYNTHETIC}: amoxicillin with penicillin allergy`,
          explanation: 'test rule',
          management: null,
          medications: ['amoxicillin'],
          factIds: ['test-al-1'],
        });
      }
      const unknownTerms = names.filter((n) => /unknownium/i.test(n));
      return Promise.resolve({
        data: {
          kind: input.kind,
          checked: names.filter((n) => !unknownTerms.includes(n)),
          unknownTerms,
          findings,
          unchecked: [],
          facts,
        },
        version: 'test-kb-1',
      });
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
            },
          ],
        },
        version: 'test-literature',
      });
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
