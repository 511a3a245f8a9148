/**
 * Incremental snapshots: after an applied edit the store derives the next snapshot from the
 * cached one (patchSnapshot). It must equal a snapshot rebuilt from the tables, fact for fact
 * and index for index, and leave the previous snapshot unchanged for checks still using it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeBaseStore } from '../../src/knowledge/store.js';
import type { KbSnapshot } from '../../src/knowledge/snapshot.js';
import type { Relation } from '../../src/knowledge/model.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';

let kb: TestKb;
beforeAll(async () => {
  kb = await openTestKb('sqlite');
});
afterAll(() => kb.drop());

const RELATIONS: Relation[] = ['interacts_with', 'member_of_class', 'contraindicated_in', 'dose_range'];
function fingerprint(s: KbSnapshot) {
  const facts = [...s.facts.values()].map((f) => `${f.id}@${f.version}:${JSON.stringify(f.attrs)}`).sort();
  const index: string[] = [];
  for (const id of s.entities.keys())
    for (const r of RELATIONS) {
      index.push(
        `${r}|${id}>${s
          .bySubject(r, id)
          .map((f) => `${f.id}@${f.version}`)
          .sort()
          .join(',')}`,
      );
      index.push(
        `${r}|${id}<${s
          .byObject(r, id)
          .map((f) => `${f.id}@${f.version}`)
          .sort()
          .join(',')}`,
      );
    }
  return { revision: s.revision, facts, index };
}

async function apply(operation: Parameters<KnowledgeBaseStore['propose']>[0]['operation']) {
  const edit = await kb.store.propose({ operation, reason: 'test' }, 'proposer');
  await kb.store.decide(edit.id, { action: 'apply', by: 'editor' });
}

describe('snapshot after an edit', () => {
  it('derived from the cached one equals a full rebuild, and the old snapshot is untouched', async () => {
    const before = await kb.store.snapshot();
    const beforePrint = fingerprint(before);
    const rule = before.facts.get('ix:class:anticoagulants~class:nsaids')!;
    await apply({ op: 'change_fact', factId: rule.id, attrs: { ...rule.attrs, management: 'Changed in a test.' } });
    await apply({ op: 'retire_fact', factId: 'ix:drug:metronidazole~drug:warfarin' });
    await apply({
      op: 'add_fact',
      fact: {
        relation: 'interacts_with',
        subject: 'drug:paracetamol',
        object: 'drug:warfarin',
        attrs: { severity: 'low', mechanism: 'Test mechanism.', management: 'Test management.' },
        source: { label: 'test', citation: 'test fixture, not clinical content' },
      },
    });
    const builds = { ...kb.store.snapshotBuilds };
    const patched = await kb.store.snapshot();
    expect(kb.store.snapshotBuilds).toEqual({ patched: builds.patched + 1, full: builds.full });
    // A fresh store over the same database rebuilds from the tables.
    const rebuilt = await (await KnowledgeBaseStore.open(kb.store.db)).snapshot();
    expect(patched.revision).toBe(before.revision + 3);
    expect(fingerprint(patched)).toEqual(fingerprint(rebuilt));
    expect(patched.facts.get(rule.id)!.attrs.management).toBe('Changed in a test.');
    expect(patched.facts.has('ix:drug:metronidazole~drug:warfarin')).toBe(false);
    expect(patched.bySubject('interacts_with', 'drug:paracetamol').map((f) => f.id)).toContain(
      'ix:drug:paracetamol~drug:warfarin',
    );
    expect(fingerprint(before)).toEqual(beforePrint);
  });

  it('a name change is rebuilt in full and still matches', async () => {
    await apply({
      op: 'add_fact',
      fact: {
        relation: 'known_as',
        subject: 'drug:warfarin',
        attrs: { name: 'testwarf', kind: 'misspelling', lang: 'en' },
        source: { label: 'test', citation: 'test fixture' },
      },
    });
    const full = kb.store.snapshotBuilds.full;
    const snap = await kb.store.snapshot();
    expect(kb.store.snapshotBuilds.full).toBe(full + 1);
    expect(snap.names.get('testwarf')?.[0]?.entityId).toBe('drug:warfarin');
    const rebuilt = await (await KnowledgeBaseStore.open(kb.store.db)).snapshot();
    expect(fingerprint(snap)).toEqual(fingerprint(rebuilt));
  });
});
