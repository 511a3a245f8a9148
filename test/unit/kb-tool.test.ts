/**
 * The LangChain tool wrappers over the real knowledge base: JSON results with fact ids to cite;
 * schema violations are refused by LangChain before the client runs, and failures of the
 * knowledge base come back as coded error objects, not exceptions or prose.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { knowledgeBaseTools } from '../../src/tools/knowledge-base/tool.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';

let kb: TestKb;
beforeAll(async () => {
  kb = await openTestKb('sqlite');
});
afterAll(() => kb.drop());

describe('knowledge-base LangChain tools', () => {
  it('kb_lookup and kb_safety_check return JSON with versions and fact ids', async () => {
    const [lookup, check] = knowledgeBaseTools(new LocalKnowledgeBaseClient(kb.store));
    expect([lookup.name, check.name]).toEqual(['kb_lookup', 'kb_safety_check']);
    const l = JSON.parse(String(await lookup.invoke({ terms: ['Coumadin', 'nonsense-term'] }))) as {
      status: string;
      version: string;
      data: { resolved: Array<{ entity: { id: string } | null }>; facts: Array<{ id: string }> };
    };
    expect(l.status).toBe('ok');
    expect(l.version).toBe('kb-r1');
    expect(l.data.resolved.map((r) => r.entity?.id ?? null)).toEqual(['drug:warfarin', null]);
    expect(l.data.facts.map((f) => f.id)).toContain('mon:drug:warfarin~lab:inr');
    const c = JSON.parse(
      String(
        await check.invoke({
          kind: 'allergy',
          medications: [{ name: 'Augmentin', dose: null, route: null, frequencyPerDay: null }],
          allergies: ['penicillin'],
        }),
      ),
    ) as {
      data: { findings: Array<{ severity: string; factIds: string[] }> };
    };
    expect(c.data.findings[0]).toMatchObject({ severity: 'critical' });
  });

  it('bad input is refused by the tool schema before the client is called', async () => {
    const [, check] = knowledgeBaseTools(new LocalKnowledgeBaseClient(kb.store));
    await expect(check.invoke({ kind: 'astrology', medications: [] } as never)).rejects.toThrow(
      /did not match expected schema|Invalid/i,
    );
  });

  it('a knowledge base that cannot be read gives a coded error object', async () => {
    const gone = await openTestKb('sqlite', null);
    const [lookup] = knowledgeBaseTools(new LocalKnowledgeBaseClient(gone.store));
    await gone.drop();
    const out = JSON.parse(String(await lookup.invoke({ terms: ['warfarin'] }))) as { status: string; code: string };
    expect(out).toMatchObject({ status: 'error', code: 'UNREACHABLE' });
  });
});
