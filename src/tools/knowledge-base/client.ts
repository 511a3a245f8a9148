/**
 * The in-process knowledge-base client the graph uses: validates requests, runs lookups and
 * checks over the current snapshot, and reports the store revision as the version. Failures
 * become coded ToolErrors (bad input is not retryable; a database problem is).
 */
import type { z } from 'zod';
import { ToolError } from '../common.js';
import { runCheck, type CheckInput } from '../../knowledge/checks.js';
import type { StoredFact } from '../../knowledge/model.js';
import { ingredientsOf, resolveTerm } from '../../knowledge/resolve.js';
import { findMentions } from '../../knowledge/mentions.js';
import { evidenceAbout, factAbout, statementConcepts } from '../../knowledge/concepts.js';
import { reasonCarePlan } from '../../knowledge/reasoning.js';
import { CareReasoningInput, type CareReasoningResult } from '../../domain/care-reasoning.js';
import {
  KbLookupInput,
  MentionsInput,
  type MentionsResult,
  SafetyCheckInput,
  type KbFact,
  type KbLookupResult,
  type SafetyCheckResult,
} from '../../domain/knowledge.js';
import type { KnowledgeBaseClient } from '../../domain/knowledge-client.js';
import { ancestors, type KbSnapshot } from '../../knowledge/snapshot.js';
import { toKbFact } from '../../knowledge/statements.js';
import type { KnowledgeBaseStore } from '../../knowledge/store.js';

/** Relations a lookup returns for an entity and its classes: what drafting can cite. */
const LOOKUP_RELATIONS = ['guideline_recommendation', 'monitors', 'treats'] as const;
const MAX_LOOKUP_FACTS = 60;

export function lookupFacts(kb: KbSnapshot, entityId: string): StoredFact[] {
  const out: StoredFact[] = [];
  for (const [id] of ancestors(kb, entityId))
    for (const relation of LOOKUP_RELATIONS) out.push(...kb.bySubject(relation, id));
  return out;
}

export const kbVersion = (kb: KbSnapshot) => `kb-r${kb.revision}`;

/** One check over a snapshot, with the cited facts (statements and provenance) attached. */
export function checkResult(kb: KbSnapshot, input: CheckInput): SafetyCheckResult {
  const outcome = runCheck(kb, input);
  const facts = outcome.factIds
    .map((id) => kb.facts.get(id))
    .filter((f): f is StoredFact => f !== undefined)
    .map((f) => toKbFact(f, kb));
  return {
    kind: outcome.kind,
    checked: outcome.checked,
    unknownTerms: outcome.unknownTerms,
    suggestions: outcome.suggestions,
    findings: outcome.findings,
    unchecked: outcome.unchecked,
    facts,
  };
}

/** Validate a request; a bad one is a coded, non-retryable tool error naming every problem. */
function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success)
    throw new ToolError(
      'INVALID_INPUT',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      false,
    );
  return parsed.data;
}

const SEARCH_NAME_KINDS = new Set(['preferred', 'generic', 'brand', 'salt']);
/** How many names a term is searched by, its own name included. */
const MAX_SEARCH_NAMES = 6;

/** The names a literature search may use for an entity: English, of the kinds above, four letters or more. */
function searchNames(kb: KbSnapshot, entityId: string, name: string): string[] {
  const out = new Map<string, string>([[name.toLowerCase(), name]]);
  for (const f of kb.bySubject('known_as', entityId)) {
    const n = typeof f.attrs.name === 'string' ? f.attrs.name : '';
    const lang = typeof f.attrs.lang === 'string' && f.attrs.lang ? f.attrs.lang : 'en';
    if (out.size >= MAX_SEARCH_NAMES) break;
    if (
      lang === 'en' &&
      SEARCH_NAME_KINDS.has(typeof f.attrs.kind === 'string' ? f.attrs.kind : '') &&
      n.length >= 4 &&
      !out.has(n.toLowerCase())
    )
      out.set(n.toLowerCase(), n);
  }
  return [...out.values()];
}

export class LocalKnowledgeBaseClient implements KnowledgeBaseClient {
  constructor(private readonly store: KnowledgeBaseStore) {}

  private async snapshot(signal: AbortSignal): Promise<KbSnapshot> {
    if (signal.aborted) throw new ToolError('TIMEOUT', 'cancelled', true);
    try {
      return await this.store.snapshot();
    } catch (err) {
      throw new ToolError(
        'UNREACHABLE',
        `knowledge-base database: ${err instanceof Error ? err.message : String(err)}`,
        true,
        { cause: err },
      );
    }
  }

  async lookup(input: KbLookupInput, signal: AbortSignal): Promise<{ data: KbLookupResult; version: string | null }> {
    const request = parseInput(KbLookupInput, input);
    const kb = await this.snapshot(signal);
    const facts = new Map<string, KbFact>();
    const resolved = request.terms.map((term) => {
      const r = resolveTerm(kb, term, 'any');
      const e = r.entities[0];
      if (!e) return { term, entity: null, searchNames: [] };
      for (const f of lookupFacts(kb, e.id))
        if (facts.size < MAX_LOOKUP_FACTS && !facts.has(f.id)) facts.set(f.id, toKbFact(f, kb));
      return { term, entity: { id: e.id, type: e.type, name: e.name }, searchNames: searchNames(kb, e.id, e.name) };
    });
    return { data: { resolved, facts: [...facts.values()] }, version: kbVersion(kb) };
  }

  async check(
    input: SafetyCheckInput,
    signal: AbortSignal,
  ): Promise<{ data: SafetyCheckResult; version: string | null }> {
    const request = parseInput(SafetyCheckInput, input);
    const kb = await this.snapshot(signal);
    return { data: checkResult(kb, request), version: kbVersion(kb) };
  }

  async mentions(input: MentionsInput, signal: AbortSignal): Promise<{ data: MentionsResult; version: string | null }> {
    const request = parseInput(MentionsInput, input);
    const kb = await this.snapshot(signal);
    const resolved = (name: string) => ({
      name,
      entityIds: resolveTerm(kb, name, 'medication').entities.flatMap((e) => {
        const ings = ingredientsOf(kb, e.id);
        return ings.length ? ings.map((i) => i.id) : [e.id];
      }),
    });
    return {
      data: {
        statements: request.statements.map((s) => ({
          id: s.id,
          mentions: findMentions(kb, s.text).map(({ start: _start, ...m }) => m),
          listed: s.listed.map(resolved),
          concepts: statementConcepts(kb, s.text),
        })),
        current: request.current.map(resolved),
        evidence: request.evidence.map((e) => evidenceAbout(kb, e)),
        facts: request.facts.flatMap((id) => factAbout(kb, id) ?? []),
      },
      version: kbVersion(kb),
    };
  }

  async reason(
    input: CareReasoningInput,
    signal: AbortSignal,
  ): Promise<{ data: CareReasoningResult; version: string | null }> {
    const request = parseInput(CareReasoningInput, input);
    const kb = await this.snapshot(signal);
    return { data: reasonCarePlan(kb, request), version: kbVersion(kb) };
  }
}
