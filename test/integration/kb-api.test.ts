/**
 * `/v1/kb/...` over fastify.inject with the real producer on the test Redis and a real
 * SQLite knowledge base: search, facts with provenance and history, normalisation, checks,
 * and the edit workflow with roles (role × endpoint matrix, four-eyes rule, problem details).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/server/auth.js';
import { deletePrefix, testConfig, TEST_TOKEN, uniquePrefix } from '../helpers/env.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { startApi, type ApiStack } from '../helpers/stack.js';

const TOKENS = {
  service: TEST_TOKEN,
  reviewer: 'reviewer-token-0123456789abcdef',
  editor: 'kb-editor-token-0123456789abcdef',
  editor2: 'kb-editor-two-token-0123456789abcd',
  ops: 'ops-token-0123456789abcdef012345',
  admin: 'admin-token-0123456789abcdef01234',
  forged: 'forged-token-0123456789abcdef0123',
};
const STAFF = [
  `dr-reviewer:${hashToken(TOKENS.reviewer)}:reviewer`,
  `kb-anna:${hashToken(TOKENS.editor)}:kb_editor`,
  `kb-ben:${hashToken(TOKENS.editor2)}:kb_editor+reviewer`,
  `ops-olga:${hashToken(TOKENS.ops)}:ops`,
  `root:${hashToken(TOKENS.admin)}:admin`,
].join(',');

const prefix = uniquePrefix();
let api: ApiStack;
let kb: TestKb;
beforeAll(async () => {
  kb = await openTestKb('sqlite');
  api = await startApi(testConfig(prefix, { STAFF_TOKENS: STAFF }), undefined, { knowledgeBase: kb.store });
});
afterAll(async () => {
  await api?.close();
  await kb?.drop();
  await deletePrefix(prefix);
});

type Who = keyof typeof TOKENS | null;
const call = (method: 'GET' | 'POST', url: string, who: Who, body?: unknown) =>
  api.app.inject({
    method,
    url,
    headers: {
      ...(who ? { authorization: `Bearer ${TOKENS[who]}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
const json = <T = Record<string, unknown>>(res: { json: () => unknown }) => res.json() as T;

const SOURCE = {
  label: 'Reviewer correction',
  citation: 'Synthetic test source; not a clinical reference.',
  url: null,
};

describe('/v1/kb', () => {
  it('searches entities by brand, Chinese and lay names', async () => {
    const res = await call('GET', '/v1/kb/entities?q=胃复安', 'service');
    expect(res.statusCode).toBe(200);
    expect(json<{ results: Array<{ id: string; match: string }> }>(res).results[0]).toMatchObject({
      id: 'drug:metoclopramide',
      match: 'exact',
    });
    const lay = json<{ results: Array<{ id: string }> }>(
      await call('GET', '/v1/kb/entities?q=water%20pill', 'reviewer'),
    ).results;
    expect(lay[0]!.id).toBe('class:diuretics');
    const prefixHits = json<{ results: Array<{ id: string; type: string }> }>(
      await call('GET', '/v1/kb/entities?q=atorva&type=ingredient', 'reviewer'),
    ).results;
    expect(prefixHits.map((r) => r.id)).toEqual(['drug:atorvastatin']);
    const bad = await call('GET', '/v1/kb/entities?q=&limit=5000', 'reviewer');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(
      json<{ code: string; errors: Array<{ pointer: string }> }>(bad)
        .errors.map((e) => e.pointer)
        .sort(),
    ).toEqual(['/limit', '/q']);
  });

  it('reads an entity with its facts and provenance, a fact, and its history', async () => {
    const res = json<{
      entity: { name: string };
      facts: Array<{ id: string; statement: string; source: { label: string } }>;
      inherited: Array<{ id: string }>;
    }>(await call('GET', '/v1/kb/entities/drug:warfarin', 'reviewer'));
    expect(res.entity.name).toBe('Warfarin');
    expect(res.facts.find((f) => f.id === 'ix:drug:amiodarone~drug:warfarin')).toMatchObject({
      source: { label: 'FDA prescribing information' },
    });
    expect(res.facts.map((f) => f.id)).toEqual(
      expect.arrayContaining(['treats:drug:warfarin~cond:atrial-fibrillation', 'mon:drug:warfarin~lab:inr']),
    );
    // Inherited from its class: anticoagulant monitoring.
    expect(res.inherited.map((f) => f.id)).toContain('mon:class:anticoagulants~lab:haemoglobin');
    const fact = json<{ statement: string; addedBy: string; version: number; status: string }>(
      await call('GET', '/v1/kb/facts/ix:class:anticoagulants~class:nsaids', 'service'),
    );
    expect(fact).toMatchObject({ addedBy: 'starter-content', version: 1, status: 'active' });
    expect(fact.statement).toMatch(/^Anticoagulants interacts with NSAIDs \(high\)/);
    expect((await call('GET', '/v1/kb/facts/nope', 'service')).statusCode).toBe(404);
    expect((await call('GET', '/v1/kb/entities/not-an-id', 'service')).statusCode).toBe(400);
    expect((await call('GET', '/v1/kb/entities/drug:nope', 'service')).statusCode).toBe(404);
  });

  it('normalises terms and runs checks', async () => {
    const n = json<{ results: Array<{ term: string; entities: Array<{ id: string }>; suggestions: string[] }> }>(
      await call('POST', '/v1/kb/normalise', 'service', {
        terms: ['甲氧氯普胺', 'blood thinner', 'warfarn'],
        context: 'medication',
      }),
    );
    expect(n.results.map((r) => r.entities.map((e) => e.id))).toEqual([
      ['drug:metoclopramide'],
      ['class:anticoagulants'],
      [],
    ]);
    expect(n.results[2]!.suggestions).toContain('Warfarin');
    const c = await call('POST', '/v1/kb/checks', 'reviewer', {
      kind: 'interaction',
      medications: [
        { name: 'warfarin', dose: null, route: null, frequencyPerDay: null },
        { name: 'Advil', dose: null, route: null, frequencyPerDay: null },
      ],
    });
    expect(c.statusCode).toBe(200);
    const body = json<{
      findings: Array<{ severity: string; factIds: string[] }>;
      facts: Array<{ id: string; source: { citation: string } }>;
    }>(c);
    expect(body.findings[0]!.severity).toBe('high');
    expect(body.facts.map((f) => f.id)).toEqual(expect.arrayContaining(body.findings[0]!.factIds));
    const bad = await call('POST', '/v1/kb/checks', 'reviewer', { kind: 'telepathy', medications: [] });
    expect(bad.statusCode).toBe(400);
    expect(json<{ errors: Array<{ pointer: string }> }>(bad).errors.map((e) => e.pointer)).toEqual(
      expect.arrayContaining(['/kind', '/medications']),
    );
  });

  it('edit workflow: a reviewer proposes, a kb editor applies, history records it, the check changes', async () => {
    const proposal = {
      operation: {
        op: 'change_fact',
        factId: 'ix:drug:clopidogrel~drug:omeprazole',
        attrs: { severity: 'high', mechanism: 'Synthetic test change.', management: 'Synthetic.' },
        source: SOURCE,
      },
      reason: 'Reviewer correction from case review (test).',
      origin: { kind: 'case_review', caseId: 'syn-case-1', revision: 1 },
    };
    const created = await call('POST', '/v1/kb/edits', 'reviewer', proposal);
    expect(created.statusCode).toBe(201);
    const edit = json<{ id: string; status: string; proposedBy: string }>(created);
    expect(edit).toMatchObject({ status: 'proposed', proposedBy: 'dr-reviewer' });
    expect(created.headers.location).toBe(`/v1/kb/edits/${edit.id}`);
    // A reviewer cannot apply; ops cannot even read edits.
    expect((await call('POST', `/v1/kb/edits/${edit.id}/apply`, 'reviewer', {})).statusCode).toBe(403);
    expect((await call('GET', `/v1/kb/edits/${edit.id}`, 'ops')).statusCode).toBe(403);
    const pending = json<{ edits: Array<{ id: string }> }>(await call('GET', '/v1/kb/edits?status=proposed', 'editor'));
    expect(pending.edits.map((e) => e.id)).toContain(edit.id);
    const applied = await call('POST', `/v1/kb/edits/${edit.id}/apply`, 'editor', { comment: 'checked' });
    expect(applied.statusCode).toBe(200);
    expect(json(applied)).toMatchObject({ status: 'applied', decidedBy: 'kb-anna', decisionComment: 'checked' });
    const again = await call('POST', `/v1/kb/edits/${edit.id}/reject`, 'editor2', {});
    expect([again.statusCode, json<{ code: string }>(again).code]).toEqual([409, 'KB_EDIT_CLOSED']);
    const history = json<{
      history: Array<{ version: number; change: string; changedBy: string; fact: { source: { label: string } } }>;
    }>(await call('GET', '/v1/kb/facts/ix:drug:clopidogrel~drug:omeprazole/history', 'service'));
    expect(history.history.map((h) => [h.version, h.change, h.changedBy, h.fact.source.label])).toEqual([
      [1, 'import', 'starter-content', 'FDA prescribing information'],
      [2, 'apply', 'kb-anna', 'Reviewer correction'],
    ]);
    const check = json<{ findings: Array<{ severity: string }> }>(
      await call('POST', '/v1/kb/checks', 'service', {
        kind: 'interaction',
        medications: ['clopidogrel', 'omeprazole'].map((name) => ({
          name,
          dose: null,
          route: null,
          frequencyPerDay: null,
        })),
      }),
    );
    expect(check.findings[0]!.severity).toBe('high');
    const version = json<{ revision: number; editsPending: number }>(await call('GET', '/v1/kb/version', 'ops'));
    expect(version.revision).toBe(2);
  });

  it('the proposer cannot apply their own edit, even as a kb editor; invalid proposals are 400 with pointers', async () => {
    const own = json<{ id: string }>(
      await call('POST', '/v1/kb/edits', 'editor2', {
        operation: { op: 'retire_fact', factId: 'ix:drug:aspirin~drug:ibuprofen' },
        reason: 'test',
      }),
    );
    const res = await call('POST', `/v1/kb/edits/${own.id}/apply`, 'editor2', {});
    expect([res.statusCode, json<{ code: string }>(res).code]).toEqual([403, 'KB_SELF_REVIEW']);
    expect((await call('POST', `/v1/kb/edits/${own.id}/reject`, 'admin', { comment: 'not now' })).statusCode).toBe(200);
    const bad = await call('POST', '/v1/kb/edits', 'editor', {
      operation: {
        op: 'add_fact',
        fact: {
          relation: 'interacts_with',
          subject: 'drug:warfarin',
          object: 'drug:aspirin',
          attrs: { severity: 'extreme' },
          source: SOURCE,
        },
      },
      reason: 'x',
    });
    expect(bad.statusCode).toBe(400);
    expect(json<{ errors: Array<{ pointer: string }> }>(bad).errors.map((e) => e.pointer)).toEqual(
      expect.arrayContaining(['/operation/fact/attrs/severity']),
    );
    expect(
      (
        await call('POST', '/v1/kb/edits', 'editor', {
          operation: { op: 'retire_fact', factId: 'ix:no~such' },
          reason: 'x',
        })
      ).statusCode,
    ).toBe(404);
    expect((await call('POST', '/v1/kb/edits/edit-not-a-uuid/apply', 'editor', {})).statusCode).toBe(400);
  });

  it('role × endpoint matrix, including unauthenticated and forged tokens', async () => {
    const editId = json<{ id: string }>(
      await call('POST', '/v1/kb/edits', 'reviewer', {
        operation: { op: 'retire_fact', factId: 'ix:drug:amiodarone~drug:digoxin' },
        reason: 'matrix',
      }),
    ).id;
    const endpoints: Array<{ method: 'GET' | 'POST'; url: string; body?: unknown; allowed: Who[] }> = [
      { method: 'GET', url: '/v1/kb/version', allowed: ['service', 'reviewer', 'editor', 'ops', 'admin'] },
      { method: 'GET', url: '/v1/kb/entities?q=warfarin', allowed: ['service', 'reviewer', 'editor', 'ops', 'admin'] },
      {
        method: 'GET',
        url: '/v1/kb/facts/ix:class:anticoagulants~class:nsaids',
        allowed: ['service', 'reviewer', 'editor', 'ops', 'admin'],
      },
      {
        method: 'POST',
        url: '/v1/kb/normalise',
        body: { terms: ['warfarin'] },
        allowed: ['service', 'reviewer', 'editor', 'ops', 'admin'],
      },
      { method: 'GET', url: '/v1/kb/edits', allowed: ['reviewer', 'editor', 'admin'] },
      { method: 'GET', url: `/v1/kb/edits/${editId}`, allowed: ['reviewer', 'editor', 'admin'] },
      {
        method: 'POST',
        url: '/v1/kb/edits',
        body: { operation: { op: 'retire_fact', factId: 'no-such-fact' }, reason: 'matrix' },
        allowed: ['reviewer', 'editor', 'admin'],
      },
    ];
    for (const e of endpoints) {
      for (const who of [null, 'forged', 'service', 'reviewer', 'editor', 'ops', 'admin'] as Who[]) {
        const res = await call(e.method, e.url, who, e.body);
        const expected = who === null || who === 'forged' ? 401 : e.allowed.includes(who) ? 'ok' : 403;
        const got = res.statusCode === 401 || res.statusCode === 403 ? res.statusCode : 'ok';
        expect(got, `${e.method} ${e.url} as ${who ?? 'anonymous'} → ${res.statusCode}`).toBe(expected);
      }
    }
    // Deciding: kb editors and admins only; everything else is refused before the edit is touched.
    for (const who of [null, 'forged', 'service', 'reviewer', 'ops'] as Who[]) {
      const res = await call('POST', `/v1/kb/edits/${editId}/apply`, who, {});
      expect(res.statusCode, String(who)).toBe(who === null || who === 'forged' ? 401 : 403);
    }
    expect((await call('POST', `/v1/kb/edits/${editId}/apply`, 'editor', {})).statusCode).toBe(200);
    // Service tokens cannot use staff endpoints and staff tokens cannot submit cases.
    expect(
      (
        await api.app.inject({
          method: 'GET',
          url: '/v1/cases/any-case',
          headers: { authorization: `Bearer ${TOKENS.reviewer}` },
        })
      ).statusCode,
    ).toBe(403);
  });
});
