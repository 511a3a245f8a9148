/**
 * An immutable, indexed view of the active knowledge at one store revision. The safety checks
 * and term resolution are pure functions over a snapshot, so they are fast (no database round
 * trip per pair), deterministic, and identical on SQLite and Postgres. The store rebuilds the
 * snapshot whenever its revision changes.
 */
import type { CodeSystem, EntityTypeName, Relation, StoredEntity, StoredFact } from './model.js';
import { foldText, hasCjk } from './text.js';

export interface NameHit {
  entityId: string;
  factId: string;
  name: string;
  kind: string;
}

export interface KbSnapshot {
  readonly revision: number;
  readonly entities: ReadonlyMap<string, StoredEntity>;
  readonly facts: ReadonlyMap<string, StoredFact>;
  /** Folded name → entities known by it. */
  readonly names: ReadonlyMap<string, readonly NameHit[]>;
  /** `system|code` → coded_as facts. */
  readonly codes: ReadonlyMap<string, readonly StoredFact[]>;
  /** Active facts by relation and subject, and by relation and object. */
  bySubject(relation: Relation, subject: string): readonly StoredFact[];
  byObject(relation: Relation, object: string): readonly StoredFact[];
  /** Condition names (folded) for phrase matching in free-text problems, longest first. */
  readonly conditionPhrases: ReadonlyArray<{ phrase: string; hit: NameHit; cjk: boolean }>;
}

type Index = Map<string, StoredFact[]>;
const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
};

/** A snapshot's indexes, kept so the next revision can be derived from it (patchSnapshot). */
interface Internals {
  entities: Map<string, StoredEntity>;
  facts: Map<string, StoredFact>;
  subj: Index;
  obj: Index;
  names: Map<string, NameHit[]>;
  codes: Index;
  conditionPhrases: Array<{ phrase: string; hit: NameHit; cjk: boolean }>;
}
const INTERNALS = new WeakMap<KbSnapshot, Internals>();

/** Relations whose facts feed the name and code indexes: a change to one of them rebuilds in full. */
const NAME_RELATIONS = new Set<Relation>(['known_as', 'coded_as']);

const factIsLive = (entities: ReadonlyMap<string, StoredEntity>, f: StoredFact) =>
  f.status === 'active' && entities.has(f.subject) && (f.object === null || entities.has(f.object));

function view(revision: number, x: Internals): KbSnapshot {
  const empty: readonly StoredFact[] = [];
  const snapshot: KbSnapshot = {
    revision,
    entities: x.entities,
    facts: x.facts,
    names: x.names,
    codes: x.codes,
    bySubject: (relation, subject) => x.subj.get(`${relation}|${subject}`) ?? empty,
    byObject: (relation, object) => x.obj.get(`${relation}|${object}`) ?? empty,
    conditionPhrases: x.conditionPhrases,
  };
  INTERNALS.set(snapshot, x);
  return snapshot;
}

export function buildSnapshot(
  revision: number,
  entities: readonly StoredEntity[],
  facts: readonly StoredFact[],
): KbSnapshot {
  const entityMap = new Map<string, StoredEntity>();
  for (const e of entities) if (e.status === 'active') entityMap.set(e.id, e);
  const factMap = new Map<string, StoredFact>();
  const subj: Index = new Map();
  const obj: Index = new Map();
  const names = new Map<string, NameHit[]>();
  const codes = new Map<string, StoredFact[]>();
  const addName = (entityId: string, factId: string, name: string, kind: string) => {
    const key = foldText(name);
    if (!key) return;
    const list = names.get(key) ?? [];
    if (!list.some((h) => h.entityId === entityId)) list.push({ entityId, factId, name, kind });
    names.set(key, list);
  };
  for (const f of facts) {
    if (!factIsLive(entityMap, f)) continue;
    factMap.set(f.id, f);
    push(subj, `${f.relation}|${f.subject}`, f);
    if (f.object) push(obj, `${f.relation}|${f.object}`, f);
    if (f.relation === 'known_as') addName(f.subject, f.id, String(f.attrs.name), String(f.attrs.kind));
    if (f.relation === 'coded_as') push(codes, `${String(f.attrs.system)}|${foldText(String(f.attrs.code))}`, f);
  }
  const conditionPhrases: Array<{ phrase: string; hit: NameHit; cjk: boolean }> = [];
  for (const [phrase, hits] of names) {
    for (const hit of hits)
      if (entityMap.get(hit.entityId)?.type === 'condition' && phrase.length >= 3)
        conditionPhrases.push({ phrase, hit, cjk: hasCjk(phrase) });
  }
  conditionPhrases.sort((a, b) => b.phrase.length - a.phrase.length);
  return view(revision, { entities: entityMap, facts: factMap, subj, obj, names, codes, conditionPhrases });
}

/**
 * The next revision's snapshot from the previous one and the facts that changed between them
 * (their current rows; a fact no longer active is dropped), without re-reading the rest: what
 * keeps an applied edit cheap with hundreds of thousands of rules. Returns null when the change
 * cannot be patched (it touches names or codes, or `prev` was not built here), and the caller
 * rebuilds in full. The previous snapshot is left untouched for checks still using it.
 */
export function patchSnapshot(prev: KbSnapshot, revision: number, changed: readonly StoredFact[]): KbSnapshot | null {
  const x = INTERNALS.get(prev);
  if (!x) return null;
  for (const f of changed) {
    const before = x.facts.get(f.id);
    if (NAME_RELATIONS.has(f.relation) || (before && NAME_RELATIONS.has(before.relation))) return null;
  }
  const facts = new Map(x.facts);
  const subj = new Map(x.subj);
  const obj = new Map(x.obj);
  const copied = new Set<StoredFact[]>();
  const listFor = (index: Index, key: string) => {
    let list = index.get(key);
    if (!list || !copied.has(list)) {
      list = list ? [...list] : [];
      copied.add(list);
      index.set(key, list);
    }
    return list;
  };
  const remove = (index: Index, key: string, id: string) => {
    const list = listFor(index, key);
    const i = list.findIndex((g) => g.id === id);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) index.delete(key);
  };
  for (const f of changed) {
    const before = facts.get(f.id);
    if (before) {
      facts.delete(f.id);
      remove(subj, `${before.relation}|${before.subject}`, f.id);
      if (before.object) remove(obj, `${before.relation}|${before.object}`, f.id);
    }
    if (!factIsLive(x.entities, f)) continue;
    facts.set(f.id, f);
    listFor(subj, `${f.relation}|${f.subject}`).push(f);
    if (f.object) listFor(obj, `${f.relation}|${f.object}`).push(f);
  }
  return view(revision, { ...x, facts, subj, obj });
}

export const codeKey = (system: CodeSystem, code: string) => `${system}|${foldText(code)}`;

/**
 * An entity and every class it belongs to, transitively (member_of_class), with the facts
 * that establish each membership: the "ancestor set" class-level rules are matched against.
 */
export function ancestors(kb: KbSnapshot, entityId: string): Map<string, string[]> {
  const out = new Map<string, string[]>([[entityId, []]]);
  const queue = [entityId];
  while (queue.length) {
    const current = queue.shift()!;
    for (const f of kb.bySubject('member_of_class', current)) {
      if (f.object && !out.has(f.object)) {
        out.set(f.object, [...out.get(current)!, f.id]);
        queue.push(f.object);
      }
    }
  }
  return out;
}

export const entityType = (kb: KbSnapshot, id: string): EntityTypeName | undefined => kb.entities.get(id)?.type;
