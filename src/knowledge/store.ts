/**
 * The knowledge-base store: entities and facts with provenance in SQLite or Postgres, an
 * append-only history of every version, an edit workflow (propose → apply or reject, by a
 * different person), bulk import, and a revision counter. Checks never query per pair: they
 * run over an in-memory snapshot of the active facts, rebuilt when the revision moves (also
 * when another process changed the database).
 */
import { randomUUID } from 'node:crypto';
import { migrate, text, type Row, type SqlDatabase, type SqlExecutor, type SqlValue } from '../infra/sql.js';
import { KbError } from './errors.js';
import { factId } from './ids.js';
import { KB_MIGRATIONS } from './migrations.js';
import {
  EditProposal,
  entityTypeOf,
  NewEntity,
  NewFact,
  referencedEntities,
  RelationAttrs,
  type EditOperation,
  type EditProposalInput,
  type EditStatus,
  type FactStatus,
  type NewFactInput,
  type Relation,
  type SourceRef,
  type StoredEdit,
  type StoredEntity,
  type StoredFact,
} from './model.js';
import { buildSnapshot, patchSnapshot, type KbSnapshot } from './snapshot.js';

/** JSON with sorted keys, so equal content compares equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

const FACT_COLUMNS = [
  'id',
  'relation',
  'subject',
  'object',
  'attrs',
  'source',
  'added_by',
  'added_at',
  'version',
  'status',
  'updated_at',
  'edit_id',
] as const;
const ENTITY_COLUMNS = [
  'id',
  'type',
  'name',
  'attrs',
  'source',
  'added_by',
  'added_at',
  'version',
  'status',
  'updated_at',
  'edit_id',
] as const;
const HISTORY_COLUMNS = [
  'target_id',
  'version',
  'target_kind',
  'change',
  'record',
  'changed_by',
  'changed_at',
  'edit_id',
  'revision',
] as const;

const factRow = (f: StoredFact): SqlValue[] => [
  f.id,
  f.relation,
  f.subject,
  f.object,
  canonicalJson(f.attrs),
  canonicalJson(f.source),
  f.addedBy,
  f.addedAt,
  f.version,
  f.status,
  f.updatedAt,
  f.editId,
];
const entityRow = (e: StoredEntity, updatedAt: string, editId: string | null): SqlValue[] => [
  e.id,
  e.type,
  e.name,
  canonicalJson(e.attrs),
  canonicalJson(e.source),
  e.addedBy,
  e.addedAt,
  e.version,
  e.status,
  updatedAt,
  editId,
];

/** Parse a source column, sharing one object per distinct source (thousands of facts cite the same one). */
function sourceOf(raw: string, shared?: Map<string, SourceRef>): SourceRef {
  const hit = shared?.get(raw);
  if (hit) return hit;
  const parsed = JSON.parse(raw) as SourceRef;
  shared?.set(raw, parsed);
  return parsed;
}

/** Changes per revision step up to which a new snapshot is derived from the cached one. */
const PATCH_LIMIT = 2000;

function toFact(r: Row, sources?: Map<string, SourceRef>): StoredFact {
  return {
    id: text(r.id),
    relation: r.relation as Relation,
    subject: text(r.subject),
    object: r.object === null ? null : text(r.object),
    attrs: JSON.parse(text(r.attrs)) as Record<string, unknown>,
    source: sourceOf(text(r.source), sources),
    addedBy: text(r.added_by),
    addedAt: text(r.added_at),
    version: Number(r.version),
    status: r.status as FactStatus,
    updatedAt: text(r.updated_at),
    editId: r.edit_id === null ? null : text(r.edit_id),
  };
}

function toEntity(r: Row, sources?: Map<string, SourceRef>): StoredEntity {
  return {
    id: text(r.id),
    type: r.type as StoredEntity['type'],
    name: text(r.name),
    attrs: JSON.parse(text(r.attrs)) as StoredEntity['attrs'],
    source: sourceOf(text(r.source), sources),
    addedBy: text(r.added_by),
    addedAt: text(r.added_at),
    version: Number(r.version),
    status: r.status as FactStatus,
  };
}

function toEdit(r: Row): StoredEdit {
  return {
    id: text(r.id),
    operation: JSON.parse(text(r.operation)) as EditOperation,
    reason: text(r.reason),
    origin: JSON.parse(text(r.origin)) as StoredEdit['origin'],
    status: r.status as EditStatus,
    baseVersion: r.base_version === null ? null : Number(r.base_version),
    targetId: text(r.target_id),
    proposedBy: text(r.proposed_by),
    proposedAt: text(r.proposed_at),
    decidedBy: r.decided_by === null ? null : text(r.decided_by),
    decidedAt: r.decided_at === null ? null : text(r.decided_at),
    decisionComment: r.decision_comment === null ? null : text(r.decision_comment),
  };
}

export interface HistoryEntry {
  version: number;
  change: 'import' | 'propose' | 'apply' | 'retire' | 'reject';
  record: StoredFact | StoredEntity;
  changedBy: string;
  changedAt: string;
  editId: string | null;
  revision: number;
}

export interface ImportBatch {
  entities: NewEntity[];
  facts: NewFactInput[];
}

export interface ImportReport {
  source: string;
  revision: number;
  entities: { added: number; updated: number; unchanged: number };
  facts: { added: number; updated: number; unchanged: number };
  /** Facts changed locally through the edit workflow that the import left alone (use force to overwrite). */
  keptLocalEdits: string[];
  durationMs: number;
}

export interface StoreOptions {
  now?: () => Date;
}

export class KnowledgeBaseStore {
  private cached: Promise<KbSnapshot> | null = null;
  private cachedRevision = -1;
  /** How the snapshots of this process were made: derived from the previous one, or read in full. */
  readonly snapshotBuilds = { patched: 0, full: 0 };
  private readonly now: () => Date;

  private constructor(
    readonly db: SqlDatabase,
    options: StoreOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Open the store on a database, creating or migrating its tables. */
  static async open(db: SqlDatabase, options: StoreOptions = {}): Promise<KnowledgeBaseStore> {
    await migrate(db, 'kb', KB_MIGRATIONS);
    return new KnowledgeBaseStore(db, options);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  async revision(): Promise<number> {
    const rows = await this.db.query<{ revision: number }>('SELECT revision FROM kb_revision WHERE id = 1');
    return Number(rows[0]?.revision ?? 0);
  }

  /**
   * The active knowledge at the current revision (cached until the revision changes). After a
   * change, the new snapshot is derived from the cached one when only a few facts changed (read
   * from the history by revision; see patchSnapshot), and rebuilt from the tables otherwise.
   */
  async snapshot(): Promise<KbSnapshot> {
    const revision = await this.revision();
    if (this.cached && revision === this.cachedRevision) return this.cached;
    const previous = this.cached;
    const previousRevision = this.cachedRevision;
    this.cachedRevision = revision;
    this.cached = (async () => {
      if (previous && previousRevision >= 0 && revision > previousRevision) {
        const patched = await this.patched(await previous, previousRevision, revision);
        if (patched) {
          this.snapshotBuilds.patched++;
          return patched;
        }
      }
      this.snapshotBuilds.full++;
      const [entities, facts] = await Promise.all([
        this.db.query("SELECT * FROM kb_entities WHERE status = 'active'"),
        this.db.query("SELECT * FROM kb_facts WHERE status = 'active'"),
      ]);
      const sources = new Map<string, SourceRef>();
      return buildSnapshot(
        revision,
        entities.map((r) => toEntity(r, sources)),
        facts.map((r) => toFact(r, sources)),
      );
    })();
    this.cached.catch(() => {
      this.cached = null;
      this.cachedRevision = -1;
    });
    return this.cached;
  }

  /** The snapshot at `revision` derived from `prev`, or null when a full rebuild is needed. */
  private async patched(prev: KbSnapshot, from: number, revision: number): Promise<KbSnapshot | null> {
    const changes = await this.db.query<{ target_id: string; target_kind: string }>(
      'SELECT DISTINCT target_id, target_kind FROM kb_history WHERE revision > ? AND revision <= ?',
      [from, revision],
    );
    if (!changes.length || changes.length > PATCH_LIMIT || changes.some((c) => c.target_kind !== 'fact')) return null;
    const rows: Row[] = [];
    const ids = changes.map((c) => text(c.target_id));
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      rows.push(
        ...(await this.db.query(`SELECT * FROM kb_facts WHERE id IN (${chunk.map(() => '?').join(',')})`, chunk)),
      );
    }
    return patchSnapshot(
      prev,
      revision,
      rows.map((r) => toFact(r)),
    );
  }

  async counts(): Promise<{
    revision: number;
    entities: number;
    facts: Record<FactStatus, number>;
    editsPending: number;
  }> {
    const [revision, entities, facts, edits] = await Promise.all([
      this.revision(),
      this.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM kb_entities WHERE status = 'active'"),
      this.db.query<{ status: FactStatus; n: number }>('SELECT status, COUNT(*) AS n FROM kb_facts GROUP BY status'),
      this.db.query<{ n: number }>("SELECT COUNT(*) AS n FROM kb_edits WHERE status = 'proposed'"),
    ]);
    const byStatus: Record<FactStatus, number> = { active: 0, proposed: 0, retired: 0 };
    for (const r of facts) byStatus[r.status] = Number(r.n);
    return { revision, entities: Number(entities[0]?.n ?? 0), facts: byStatus, editsPending: Number(edits[0]?.n ?? 0) };
  }

  async getFact(id: string): Promise<StoredFact | null> {
    const rows = await this.db.query('SELECT * FROM kb_facts WHERE id = ?', [id]);
    return rows[0] ? toFact(rows[0]) : null;
  }

  async getEntity(id: string): Promise<StoredEntity | null> {
    const rows = await this.db.query('SELECT * FROM kb_entities WHERE id = ?', [id]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /** Facts in which the entity is subject or object; active only unless `all`. */
  async factsOf(entityId: string, all = false): Promise<StoredFact[]> {
    const rows = await this.db.query(
      `SELECT * FROM kb_facts WHERE (subject = ? OR object = ?)${all ? '' : " AND status = 'active'"} ORDER BY relation, id`,
      [entityId, entityId],
    );
    return rows.map((r) => toFact(r));
  }

  async history(targetId: string): Promise<HistoryEntry[]> {
    const rows = await this.db.query('SELECT * FROM kb_history WHERE target_id = ? ORDER BY version', [targetId]);
    return rows.map((r) => ({
      version: Number(r.version),
      change: r.change as HistoryEntry['change'],
      record: JSON.parse(text(r.record)) as StoredFact,
      changedBy: text(r.changed_by),
      changedAt: text(r.changed_at),
      editId: r.edit_id === null ? null : text(r.edit_id),
      revision: Number(r.revision),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Edits

  /** Record a proposal. Nothing changes in the active knowledge until a second person applies it. */
  async propose(input: EditProposalInput, proposedBy: string): Promise<StoredEdit> {
    const parsed = EditProposal.safeParse(input);
    if (!parsed.success)
      throw new KbError(
        'KB_INVALID',
        'the proposal is not valid',
        parsed.error.issues.map((i) => ({ pointer: `/${i.path.join('/')}`, message: i.message })),
      );
    const proposal = parsed.data;
    const at = this.now().toISOString();
    const id = `edit-${randomUUID()}`;
    return this.db.transaction(async (tx) => {
      const op = proposal.operation;
      let targetId: string;
      let baseVersion: number | null = null;
      // A proposal does not change the active knowledge: the revision stays where it is.
      const revision = await this.currentRevision(tx);
      if (op.op === 'add_entity') {
        targetId = op.entity.id;
        const existing = await tx.query('SELECT id FROM kb_entities WHERE id = ?', [targetId]);
        if (existing.length) throw new KbError('KB_CONFLICT', `entity ${targetId} already exists`);
      } else if (op.op === 'add_fact') {
        await this.requireEntities(tx, referencedEntities(op.fact));
        targetId = factId(op.fact);
        const existing = (await tx.query('SELECT * FROM kb_facts WHERE id = ?', [targetId]))[0];
        if (existing && existing.status !== 'retired') {
          throw new KbError(
            'KB_CONFLICT',
            `fact ${targetId} already exists (${String(existing.status)}); propose a change to it instead`,
          );
        }
        if (!existing) {
          const fact: StoredFact = {
            id: targetId,
            ...op.fact,
            addedBy: proposedBy,
            addedAt: at,
            version: 1,
            status: 'proposed',
            updatedAt: at,
            editId: id,
          };
          await tx.insertMany('kb_facts', FACT_COLUMNS, [factRow(fact)]);
          await this.writeHistory(tx, [
            { record: fact, kind: 'fact', change: 'propose', by: proposedBy, at, editId: id, revision },
          ]);
        } else baseVersion = Number(existing.version);
      } else {
        targetId = op.factId;
        const existing = (await tx.query('SELECT * FROM kb_facts WHERE id = ?', [targetId]))[0];
        if (!existing) throw new KbError('KB_NOT_FOUND', `no fact ${targetId}`);
        if (existing.status !== 'active')
          throw new KbError(
            'KB_CONFLICT',
            `fact ${targetId} is ${String(existing.status)}; only active facts can be changed or retired`,
          );
        baseVersion = Number(existing.version);
        if (op.op === 'change_fact') {
          if (!op.attrs && !op.source)
            throw new KbError('KB_INVALID', 'a change needs new attrs or a new source', [
              { pointer: '/operation', message: 'nothing to change' },
            ]);
          if (op.attrs) {
            const checked = RelationAttrs[existing.relation as Relation].safeParse(op.attrs);
            if (!checked.success)
              throw new KbError(
                'KB_INVALID',
                'the new attributes are not valid for this relation',
                checked.error.issues.map((i) => ({
                  pointer: `/operation/attrs/${i.path.join('/')}`,
                  message: i.message,
                })),
              );
          }
        }
      }
      await tx.run(
        'INSERT INTO kb_edits (id, operation, reason, origin, status, base_version, target_id, proposed_by, proposed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          id,
          canonicalJson(op),
          proposal.reason,
          canonicalJson(proposal.origin),
          'proposed',
          baseVersion,
          targetId,
          proposedBy,
          at,
        ],
      );
      return {
        id,
        operation: op,
        reason: proposal.reason,
        origin: proposal.origin,
        status: 'proposed',
        baseVersion,
        targetId,
        proposedBy,
        proposedAt: at,
        decidedBy: null,
        decidedAt: null,
        decisionComment: null,
      };
    });
  }

  async getEdit(id: string): Promise<StoredEdit | null> {
    const rows = await this.db.query('SELECT * FROM kb_edits WHERE id = ?', [id]);
    return rows[0] ? toEdit(rows[0]) : null;
  }

  async listEdits(filter: { status?: EditStatus; targetId?: string; limit?: number } = {}): Promise<StoredEdit[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.targetId) {
      where.push('target_id = ?');
      params.push(filter.targetId);
    }
    const rows = await this.db.query(
      `SELECT * FROM kb_edits${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY proposed_at DESC, id LIMIT ?`,
      [...params, filter.limit ?? 100],
    );
    return rows.map(toEdit);
  }

  /**
   * Apply or reject a proposal. The decider must not be the proposer. A change or retirement
   * proposed against a version that has moved on since is refused as stale.
   */
  async decide(
    editId: string,
    /** `byCreatedBy`: who created the decider's account, when it is an account (it must not be the proposer). */
    decision: { action: 'apply' | 'reject'; by: string; byCreatedBy?: string | null; comment?: string },
  ): Promise<StoredEdit> {
    const at = this.now().toISOString();
    return this.db.transaction(async (tx) => {
      const row = (await tx.query('SELECT * FROM kb_edits WHERE id = ?', [editId]))[0];
      if (!row) throw new KbError('KB_NOT_FOUND', `no edit ${editId}`);
      const edit = toEdit(row);
      if (edit.status !== 'proposed')
        throw new KbError(
          'KB_EDIT_CLOSED',
          `edit ${editId} was already ${edit.status} by ${edit.decidedBy ?? 'someone'}`,
        );
      if (edit.proposedBy === decision.by)
        throw new KbError('KB_SELF_REVIEW', 'a proposal must be applied or rejected by someone other than its author');
      if (decision.byCreatedBy && edit.proposedBy === decision.byCreatedBy)
        throw new KbError(
          'KB_SELF_REVIEW',
          `${decision.by}'s account was created by ${edit.proposedBy}, the proposal's author: another reviewer must decide it`,
        );
      const revision = decision.action === 'apply' ? await this.bumpRevision(tx, at) : await this.currentRevision(tx);
      const op = edit.operation;
      if (decision.action === 'apply') await this.applyOperation(tx, edit, op, decision.by, at, revision);
      else if (op.op === 'add_fact') {
        const current = (await tx.query('SELECT * FROM kb_facts WHERE id = ?', [edit.targetId]))[0];
        if (current && current.status === 'proposed' && current.edit_id === edit.id) {
          const fact = {
            ...toFact(current),
            status: 'retired' as const,
            version: Number(current.version) + 1,
            updatedAt: at,
            editId: edit.id,
          };
          await this.replaceFact(tx, fact);
          await this.writeHistory(tx, [
            { record: fact, kind: 'fact', change: 'reject', by: decision.by, at, editId: edit.id, revision },
          ]);
        }
      }
      const status: EditStatus = decision.action === 'apply' ? 'applied' : 'rejected';
      await tx.run(
        'UPDATE kb_edits SET status = ?, decided_by = ?, decided_at = ?, decision_comment = ? WHERE id = ?',
        [status, decision.by, at, decision.comment ?? null, editId],
      );
      return { ...edit, status, decidedBy: decision.by, decidedAt: at, decisionComment: decision.comment ?? null };
    });
  }

  private async applyOperation(
    tx: SqlExecutor,
    edit: StoredEdit,
    op: EditOperation,
    by: string,
    at: string,
    revision: number,
  ): Promise<void> {
    if (op.op === 'add_entity') {
      const exists = await tx.query('SELECT id FROM kb_entities WHERE id = ?', [op.entity.id]);
      if (exists.length) throw new KbError('KB_CONFLICT', `entity ${op.entity.id} already exists`);
      const e = NewEntity.parse(op.entity);
      const entity: StoredEntity = {
        id: e.id,
        type: entityTypeOf(e.id),
        name: e.name,
        attrs: e.attrs,
        source: e.source,
        addedBy: edit.proposedBy,
        addedAt: at,
        version: 1,
        status: 'active',
      };
      await tx.insertMany('kb_entities', ENTITY_COLUMNS, [entityRow(entity, at, edit.id)]);
      // The preferred name, so the new entity can be found by name like imported ones.
      const name = NewFact.parse({
        relation: 'known_as',
        subject: entity.id,
        attrs: { name: entity.name, kind: 'preferred', lang: 'en' },
        source: entity.source,
      });
      const nameFact: StoredFact = {
        id: factId(name),
        ...name,
        addedBy: edit.proposedBy,
        addedAt: at,
        version: 1,
        status: 'active',
        updatedAt: at,
        editId: edit.id,
      };
      await tx.insertMany('kb_facts', FACT_COLUMNS, [factRow(nameFact)]);
      await this.writeHistory(tx, [
        { record: entity, kind: 'entity', change: 'apply', by, at, editId: edit.id, revision },
        { record: nameFact, kind: 'fact', change: 'apply', by, at, editId: edit.id, revision },
      ]);
      return;
    }
    const row = (await tx.query('SELECT * FROM kb_facts WHERE id = ?', [edit.targetId]))[0];
    if (op.op === 'add_fact') {
      await this.requireEntities(tx, referencedEntities(op.fact));
      const current = row ? toFact(row) : null;
      if (current && current.status === 'active')
        throw new KbError('KB_CONFLICT', `fact ${edit.targetId} became active meanwhile`);
      if (current && edit.baseVersion !== null && current.version !== edit.baseVersion)
        throw new KbError(
          'KB_STALE_EDIT',
          `fact ${edit.targetId} changed since the proposal (version ${edit.baseVersion} → ${current.version}); propose again`,
        );
      const fact: StoredFact = {
        id: edit.targetId,
        ...op.fact,
        addedBy: edit.proposedBy,
        addedAt: current?.addedAt ?? at,
        version: (current?.version ?? 0) + 1,
        status: 'active',
        updatedAt: at,
        editId: edit.id,
      };
      if (current) await this.replaceFact(tx, fact);
      else await tx.insertMany('kb_facts', FACT_COLUMNS, [factRow(fact)]);
      await this.writeHistory(tx, [{ record: fact, kind: 'fact', change: 'apply', by, at, editId: edit.id, revision }]);
      return;
    }
    if (!row) throw new KbError('KB_NOT_FOUND', `fact ${edit.targetId} no longer exists`);
    const current = toFact(row);
    if (current.version !== edit.baseVersion)
      throw new KbError(
        'KB_STALE_EDIT',
        `fact ${edit.targetId} changed since the proposal (version ${edit.baseVersion} → ${current.version}); propose again`,
      );
    if (current.status !== 'active') throw new KbError('KB_CONFLICT', `fact ${edit.targetId} is ${current.status}`);
    const next: StoredFact =
      op.op === 'retire_fact'
        ? { ...current, status: 'retired', version: current.version + 1, updatedAt: at, editId: edit.id }
        : {
            ...current,
            attrs: op.attrs ? RelationAttrs[current.relation].parse(op.attrs) : current.attrs,
            source: op.source ?? current.source,
            version: current.version + 1,
            updatedAt: at,
            editId: edit.id,
          };
    await this.replaceFact(tx, next);
    await this.writeHistory(tx, [
      {
        record: next,
        kind: 'fact',
        change: op.op === 'retire_fact' ? 'retire' : 'apply',
        by,
        at,
        editId: edit.id,
        revision,
      },
    ]);
  }

  // -------------------------------------------------------------------------------------------
  // Import

  /**
   * Load a batch of entities and facts in one transaction. New items are added, changed items
   * get a new version, unchanged ones are left alone (so re-running an import is harmless).
   * Facts last changed through the edit workflow are kept unless `force` is set.
   */
  async importBatch(
    batch: ImportBatch,
    options: { source: string; by: string; force?: boolean },
  ): Promise<ImportReport> {
    const started = performance.now();
    const at = this.now().toISOString();
    const entities = batch.entities.map((e, i) => {
      const parsed = NewEntity.safeParse(e);
      if (!parsed.success)
        throw new KbError(
          'KB_IMPORT_INVALID',
          `entity ${i + 1} is not valid`,
          parsed.error.issues.map((x) => ({ pointer: `/entities/${i}/${x.path.join('/')}`, message: x.message })),
        );
      return parsed.data;
    });
    const facts = batch.facts.map((f, i) => {
      const parsed = NewFact.safeParse(f);
      if (!parsed.success)
        throw new KbError(
          'KB_IMPORT_INVALID',
          `fact ${i + 1} is not valid`,
          parsed.error.issues.map((x) => ({ pointer: `/facts/${i}/${x.path.join('/')}`, message: x.message })),
        );
      return { id: factId(parsed.data), ...parsed.data };
    });
    return this.db.transaction(async (tx) => {
      const report: ImportReport = {
        source: options.source,
        revision: 0,
        entities: { added: 0, updated: 0, unchanged: 0 },
        facts: { added: 0, updated: 0, unchanged: 0 },
        keptLocalEdits: [],
        durationMs: 0,
      };
      const revision = (await this.currentRevision(tx)) + 1;
      const history: Array<Parameters<KnowledgeBaseStore['writeHistory']>[1][number]> = [];

      const existingEntities = new Map(
        (await tx.query('SELECT * FROM kb_entities')).map((r) => [text(r.id), toEntity(r)]),
      );
      const newEntityRows: SqlValue[][] = [];
      for (const e of entities) {
        const current = existingEntities.get(e.id);
        const candidate: StoredEntity = {
          id: e.id,
          type: entityTypeOf(e.id),
          name: e.name,
          attrs: e.attrs,
          source: e.source,
          addedBy: current?.addedBy ?? options.by,
          addedAt: current?.addedAt ?? at,
          version: (current?.version ?? 0) + 1,
          status: 'active',
        };
        if (
          current &&
          current.name === e.name &&
          canonicalJson(current.attrs) === canonicalJson(e.attrs) &&
          canonicalJson(current.source) === canonicalJson(e.source) &&
          current.status === 'active'
        ) {
          report.entities.unchanged++;
          continue;
        }
        if (current) {
          await tx.run(
            'UPDATE kb_entities SET name = ?, attrs = ?, source = ?, version = ?, status = ?, updated_at = ?, edit_id = NULL WHERE id = ?',
            [
              candidate.name,
              canonicalJson(candidate.attrs),
              canonicalJson(candidate.source),
              candidate.version,
              'active',
              at,
              e.id,
            ],
          );
          report.entities.updated++;
        } else {
          newEntityRows.push(entityRow(candidate, at, null));
          report.entities.added++;
        }
        existingEntities.set(e.id, candidate);
        history.push({
          record: candidate,
          kind: 'entity',
          change: 'import',
          by: options.by,
          at,
          editId: null,
          revision,
        });
      }
      await tx.insertMany('kb_entities', ENTITY_COLUMNS, newEntityRows);

      const missing = facts.flatMap((f) => referencedEntities(f)).filter((id) => !existingEntities.has(id));
      if (missing.length)
        throw new KbError(
          'KB_IMPORT_INVALID',
          `facts refer to entities that do not exist: ${[...new Set(missing)].slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
        );

      const existingFacts = new Map((await tx.query('SELECT * FROM kb_facts')).map((r) => [text(r.id), toFact(r)]));
      const newFactRows: SqlValue[][] = [];
      const seen = new Set<string>();
      for (const f of facts) {
        if (seen.has(f.id)) continue;
        seen.add(f.id);
        const current = existingFacts.get(f.id);
        if (
          current &&
          current.status === 'active' &&
          canonicalJson(current.attrs) === canonicalJson(f.attrs) &&
          canonicalJson(current.source) === canonicalJson(f.source)
        ) {
          report.facts.unchanged++;
          continue;
        }
        if (current && current.editId !== null && !options.force) {
          report.keptLocalEdits.push(f.id);
          continue;
        }
        const fact: StoredFact = {
          id: f.id,
          relation: f.relation,
          subject: f.subject,
          object: f.object,
          attrs: f.attrs,
          source: f.source,
          addedBy: current?.addedBy ?? options.by,
          addedAt: current?.addedAt ?? at,
          version: (current?.version ?? 0) + 1,
          status: 'active',
          updatedAt: at,
          editId: null,
        };
        if (current) {
          await this.replaceFact(tx, fact);
          report.facts.updated++;
        } else {
          newFactRows.push(factRow(fact));
          report.facts.added++;
        }
        history.push({ record: fact, kind: 'fact', change: 'import', by: options.by, at, editId: null, revision });
      }
      await tx.insertMany('kb_facts', FACT_COLUMNS, newFactRows);
      await this.writeHistory(tx, history);
      report.revision = history.length ? await this.bumpRevision(tx, at) : revision - 1;
      report.durationMs = Math.round(performance.now() - started);
      await tx.run(
        'INSERT INTO kb_imports (id, source, imported_by, started_at, finished_at, revision, report) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [
          `import-${randomUUID()}`,
          options.source,
          options.by,
          at,
          this.now().toISOString(),
          report.revision,
          JSON.stringify(report),
        ],
      );
      return report;
    });
  }

  // -------------------------------------------------------------------------------------------

  /** The revision, read under a row lock on Postgres so writers are serialised (SQLite's BEGIN IMMEDIATE already does). */
  private async currentRevision(tx: SqlExecutor): Promise<number> {
    const rows = await tx.query<{ revision: number }>(
      `SELECT revision FROM kb_revision WHERE id = 1${tx.kind === 'postgres' ? ' FOR UPDATE' : ''}`,
    );
    return Number(rows[0]!.revision);
  }

  private async bumpRevision(tx: SqlExecutor, at: string): Promise<number> {
    await tx.run('UPDATE kb_revision SET revision = revision + 1, updated_at = ? WHERE id = 1', [at]);
    return this.currentRevision(tx);
  }

  private async requireEntities(tx: SqlExecutor, ids: ReadonlyArray<string | null>): Promise<void> {
    for (const id of ids) {
      if (id === null) continue;
      const rows = await tx.query("SELECT id FROM kb_entities WHERE id = ? AND status = 'active'", [id]);
      if (!rows.length)
        throw new KbError('KB_NOT_FOUND', `no entity ${id}; add it first (op add_entity)`, [
          { pointer: '/operation/fact', message: `unknown entity ${id}` },
        ]);
    }
  }

  private async replaceFact(tx: SqlExecutor, f: StoredFact): Promise<void> {
    await tx.run(
      'UPDATE kb_facts SET attrs = ?, source = ?, version = ?, status = ?, updated_at = ?, edit_id = ?, added_by = ?, added_at = ? WHERE id = ?',
      [
        canonicalJson(f.attrs),
        canonicalJson(f.source),
        f.version,
        f.status,
        f.updatedAt,
        f.editId,
        f.addedBy,
        f.addedAt,
        f.id,
      ],
    );
  }

  private async writeHistory(
    tx: SqlExecutor,
    entries: ReadonlyArray<{
      record: StoredFact | StoredEntity;
      kind: 'fact' | 'entity';
      change: HistoryEntry['change'];
      by: string;
      at: string;
      editId: string | null;
      revision: number;
    }>,
  ): Promise<void> {
    await tx.insertMany(
      'kb_history',
      HISTORY_COLUMNS,
      entries.map((e) => [
        e.record.id,
        e.record.version,
        e.kind,
        e.change,
        canonicalJson(e.record),
        e.by,
        e.at,
        e.editId,
        e.revision,
      ]),
    );
  }
}
