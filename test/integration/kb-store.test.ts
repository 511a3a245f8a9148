/**
 * The knowledge-base store on both backends (SQLite file, real PostgreSQL): the edit workflow
 * (propose → apply/reject by someone else, versioned history), retired facts stop firing,
 * stale proposals are refused, imports keep local edits unless forced, and the store is
 * created and migrated on open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/knowledge/checks.js';
import { KbError } from '../../src/knowledge/errors.js';
import { importKnowledge } from '../../src/knowledge/importer.js';
import { STARTER_DIR } from '../../src/knowledge/open.js';
import { SafetyCheckInput } from '../../src/domain/knowledge.js';
import { openTestKb, type Backend, type TestKb } from '../helpers/kb.js';

const SOURCE = { label: 'Test reviewer note', citation: 'Synthetic test source; not a clinical reference.', url: null };
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof KbError ? e.code : String(e)),
  );

describe.each<Backend>(['sqlite', 'postgres'])('knowledge-base store on %s', (backend) => {
  let kb: TestKb;
  beforeAll(async () => {
    kb = await openTestKb(backend);
  }, 60_000);
  afterAll(() => kb?.drop());

  const interactions = async (meds: string[]) =>
    runCheck(
      await kb.store.snapshot(),
      SafetyCheckInput.parse({
        kind: 'interaction',
        medications: meds.map((name) => ({ name, dose: null, route: null, frequencyPerDay: null })),
      }),
    ).findings;

  it('is created, migrated and seeded from the starter content on open', async () => {
    const counts = await kb.store.counts();
    expect(counts.revision).toBe(1);
    expect(counts.entities).toBeGreaterThan(350);
    expect(counts.facts.active).toBeGreaterThan(2000);
    const ingredients = [...(await kb.store.snapshot()).entities.values()].filter((e) => e.type === 'ingredient');
    expect(ingredients.length).toBeGreaterThanOrEqual(150);
    const fact = await kb.store.getFact('ix:class:anticoagulants~class:nsaids');
    expect(fact).toMatchObject({ status: 'active', version: 1, addedBy: 'starter-content', source: { label: 'BNF' } });
  });

  it('retire: proposed by one person, applied by another; the retired fact stops firing', async () => {
    const id = 'ix:class:anticoagulants~class:nsaids';
    expect((await interactions(['warfarin', 'ibuprofen']))[0]?.factIds).toContain(id);
    const edit = await kb.store.propose(
      { operation: { op: 'retire_fact', factId: id }, reason: 'Test: retire to prove checks use only active facts.' },
      'alice',
    );
    expect(edit).toMatchObject({ status: 'proposed', baseVersion: 1, targetId: id });
    // A proposal changes nothing yet.
    expect((await interactions(['warfarin', 'ibuprofen']))[0]?.factIds).toContain(id);
    expect(await codeOf(kb.store.decide(edit.id, { action: 'apply', by: 'alice' }))).toBe('KB_SELF_REVIEW');
    const before = await kb.store.revision();
    const applied = await kb.store.decide(edit.id, { action: 'apply', by: 'bob', comment: 'agreed' });
    expect(applied).toMatchObject({ status: 'applied', decidedBy: 'bob' });
    expect(await kb.store.revision()).toBe(before + 1);
    expect(await interactions(['warfarin', 'ibuprofen'])).toEqual([]);
    expect(await kb.store.getFact(id)).toMatchObject({ status: 'retired', version: 2, editId: edit.id });
    const history = await kb.store.history(id);
    expect(history.map((h) => [h.version, h.change, h.changedBy])).toEqual([
      [1, 'import', 'starter-content'],
      [2, 'retire', 'bob'],
    ]);
    expect(await codeOf(kb.store.decide(edit.id, { action: 'apply', by: 'carol' }))).toBe('KB_EDIT_CLOSED');
  });

  it('add: a proposed fact does not fire until applied', async () => {
    const fact = {
      relation: 'interacts_with' as const,
      subject: 'drug:amlodipine',
      object: 'drug:metformin',
      attrs: { severity: 'low', mechanism: 'Synthetic test rule.', management: 'None: test only.' },
      source: SOURCE,
    };
    const edit = await kb.store.propose(
      {
        operation: { op: 'add_fact', fact },
        reason: 'Test rule',
        origin: { kind: 'case_review', caseId: 'case-42', revision: 2 },
      },
      'alice',
    );
    expect(edit.targetId).toBe('ix:drug:amlodipine~drug:metformin');
    expect(await interactions(['amlodipine', 'metformin'])).toEqual([]);
    expect(await kb.store.getFact(edit.targetId)).toMatchObject({ status: 'proposed' });
    await kb.store.decide(edit.id, { action: 'apply', by: 'bob' });
    const found = await interactions(['amlodipine', 'metformin']);
    expect(found.map((f) => [f.severity, f.factIds[0]])).toEqual([['low', 'ix:drug:amlodipine~drug:metformin']]);
    expect(await kb.store.getEdit(edit.id)).toMatchObject({
      origin: { kind: 'case_review', caseId: 'case-42', revision: 2 },
    });
  });

  it('change: new attributes make a new version; a second proposal on the old version is stale', async () => {
    const id = 'ix:drug:methotrexate~drug:trimethoprim';
    const first = await kb.store.propose(
      {
        operation: {
          op: 'change_fact',
          factId: id,
          attrs: { severity: 'high', mechanism: 'Test change one.', management: 'Test.' },
        },
        reason: 'one',
      },
      'alice',
    );
    const second = await kb.store.propose(
      {
        operation: {
          op: 'change_fact',
          factId: id,
          attrs: { severity: 'moderate', mechanism: 'Test change two.', management: 'Test.' },
        },
        reason: 'two',
      },
      'carol',
    );
    await kb.store.decide(first.id, { action: 'apply', by: 'bob' });
    expect(await kb.store.getFact(id)).toMatchObject({ version: 2, attrs: { severity: 'high' } });
    expect(await codeOf(kb.store.decide(second.id, { action: 'apply', by: 'bob' }))).toBe('KB_STALE_EDIT');
    expect((await kb.store.getEdit(second.id))?.status).toBe('proposed');
    expect((await kb.store.decide(second.id, { action: 'reject', by: 'bob', comment: 'stale' })).status).toBe(
      'rejected',
    );
    expect((await kb.store.history(id)).map((h) => h.version)).toEqual([1, 2]);
  });

  it('reject: nothing changes; a rejected addition never becomes active', async () => {
    const fact = {
      relation: 'contraindicated_in' as const,
      subject: 'drug:amlodipine',
      object: 'cond:gout',
      attrs: { severity: 'low', note: 'Synthetic test rule.' },
      source: SOURCE,
    };
    const edit = await kb.store.propose({ operation: { op: 'add_fact', fact }, reason: 'test' }, 'alice');
    const rev = await kb.store.revision();
    await kb.store.decide(edit.id, { action: 'reject', by: 'bob', comment: 'no evidence' });
    expect(await kb.store.revision()).toBe(rev);
    expect((await kb.store.getFact(edit.targetId))?.status).toBe('retired');
    expect((await kb.store.listEdits({ status: 'rejected' })).map((e) => e.id)).toContain(edit.id);
  });

  it('refuses invalid proposals with stable codes', async () => {
    expect(
      await codeOf(
        kb.store.propose({ operation: { op: 'retire_fact', factId: 'ix:nope~nope' }, reason: 'x' }, 'alice'),
      ),
    ).toBe('KB_NOT_FOUND');
    const badAttrs = {
      relation: 'interacts_with',
      subject: 'drug:amlodipine',
      object: 'drug:aspirin',
      attrs: { severity: 'very bad' },
      source: SOURCE,
    };
    expect(
      await codeOf(kb.store.propose({ operation: { op: 'add_fact', fact: badAttrs }, reason: 'x' } as never, 'alice')),
    ).toBe('KB_INVALID');
    const badShape = { relation: 'dose_range', subject: 'cond:gout', attrs: {}, source: SOURCE };
    expect(
      await codeOf(kb.store.propose({ operation: { op: 'add_fact', fact: badShape }, reason: 'x' } as never, 'alice')),
    ).toBe('KB_INVALID');
    const unknownEntity = {
      relation: 'treats',
      subject: 'drug:not-a-drug',
      object: 'cond:gout',
      attrs: {},
      source: SOURCE,
    };
    expect(
      await codeOf(
        kb.store.propose({ operation: { op: 'add_fact', fact: unknownEntity }, reason: 'x' } as never, 'alice'),
      ),
    ).toBe('KB_NOT_FOUND');
    expect(
      await codeOf(
        kb.store.propose(
          {
            operation: {
              op: 'add_fact',
              fact: {
                relation: 'treats',
                subject: 'drug:metformin',
                object: 'cond:type-2-diabetes',
                attrs: {},
                source: SOURCE,
              },
            },
            reason: 'x',
          },
          'alice',
        ),
      ),
    ).toBe('KB_CONFLICT');
  });

  it('a new entity, then facts about it', async () => {
    const e = await kb.store.propose(
      {
        operation: { op: 'add_entity', entity: { id: 'drug:testamab', name: 'Testamab', source: SOURCE } },
        reason: 'test',
      },
      'alice',
    );
    await kb.store.decide(e.id, { action: 'apply', by: 'bob' });
    const f = await kb.store.propose(
      {
        operation: {
          op: 'add_fact',
          fact: {
            relation: 'member_of_class',
            subject: 'drug:testamab',
            object: 'class:nsaids',
            attrs: {},
            source: SOURCE,
          },
        },
        reason: 'test',
      },
      'alice',
    );
    await kb.store.decide(f.id, { action: 'apply', by: 'bob' });
    const snap = await kb.store.snapshot();
    expect(snap.entities.get('drug:testamab')?.name).toBe('Testamab');
    const dup = runCheck(
      snap,
      SafetyCheckInput.parse({
        kind: 'duplicate_therapy',
        medications: ['testamab', 'naproxen'].map((name) => ({ name, dose: null, route: null, frequencyPerDay: null })),
      }),
    );
    expect(dup.findings.map((x) => x.summary)).toEqual(['testamab and naproxen are both NSAIDs']);
  });

  it('re-importing keeps local edits unless forced, and is otherwise a no-op', async () => {
    const again = await importKnowledge(kb.store, STARTER_DIR, { by: 'ops' });
    expect(again.facts.added).toBe(0);
    expect(again.facts.updated).toBe(0);
    expect(again.keptLocalEdits.sort()).toEqual([
      'ix:class:anticoagulants~class:nsaids',
      'ix:drug:methotrexate~drug:trimethoprim',
    ]);
    const forced = await importKnowledge(kb.store, STARTER_DIR, { by: 'ops', force: true });
    expect(forced.facts.updated).toBe(2);
    expect(await kb.store.getFact('ix:class:anticoagulants~class:nsaids')).toMatchObject({
      status: 'active',
      version: 3,
    });
    expect((await interactions(['warfarin', 'ibuprofen']))[0]?.severity).toBe('high');
  });
});
