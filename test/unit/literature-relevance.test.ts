/**
 * Relevance, not just rank: a literature record is cited only when the knowledge base reads the
 * step's problem in its title, conclusions or MeSH headings (and, for a medication question, one
 * of the step's drugs or their class anywhere in it). The records here are SYNTHETIC texts in
 * the shape of PubMed abstracts, not real publications.
 */
import { describe, expect, it } from 'vitest';
import { decideRelevance, recordParts } from '../../src/graphs/clinical-case/relevance.js';
import { buildPubmedQuery } from '../../src/tools/literature/query.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();

async function judge(
  problem: string,
  drugs: string[],
  record: { title?: string; abstract: string; mesh?: string[] },
  requireDrug = false,
) {
  const client = new LocalKnowledgeBaseClient(starter.kb().store);
  const parts = recordParts({ title: record.title ?? '', abstract: record.abstract, mesh: record.mesh ?? [] });
  const { data } = await client.mentions(
    {
      statements: [
        { id: 'problem', text: problem },
        { id: 'drugs', text: drugs.join('; ') || '-' },
      ],
      evidence: [
        { id: 'strong', kind: 'text', text: parts.strong },
        { id: 'mesh', kind: 'terms', text: parts.mesh },
        { id: 'body', kind: 'text', text: parts.body },
      ],
    },
    new AbortController().signal,
  );
  const concepts = new Map(data.statements.map((s) => [s.id, s.concepts]));
  const about = new Map(data.evidence.map((e) => [e.id, e]));
  return decideRelevance(
    { problem: concepts.get('problem')!, drugs: concepts.get('drugs')!, problemText: problem, requireDrug },
    { strong: about.get('strong')!, mesh: about.get('mesh')!, body: about.get('body')! },
  );
}

describe('literature relevance', () => {
  it('splits a structured abstract: conclusions and MeSH (also inverted) are the strong part', () => {
    const parts = recordParts({
      title: '',
      abstract: 'BACKGROUND: Something. RESULTS: More. CONCLUSIONS: The end.',
      mesh: ['Diabetes Mellitus, Type 2', 'Humans'],
    });
    expect(parts.body).toBe('BACKGROUND: Something. RESULTS: More. ');
    expect(parts.strong).toBe('CONCLUSIONS: The end.');
    expect(parts.mesh).toBe('Diabetes Mellitus, Type 2\nHumans\nType 2 Diabetes Mellitus\nHumans');
  });

  it('a record whose MeSH or conclusions name the problem (by a knowledge-base synonym) is relevant', async () => {
    const d = await judge('Chronic kidney disease stage 3b', [], {
      abstract: 'METHODS: We followed adults. CONCLUSIONS: Outcomes in chronic renal insufficiency were worse.',
    });
    expect(d).toMatchObject({ relevant: true, problemIn: 'strong' });
    const mesh = await judge('Type 2 diabetes mellitus', [], {
      abstract: 'RESULTS: HbA1c fell.',
      mesh: ['Diabetes Mellitus, Type 2'],
    });
    expect(mesh.relevant).toBe(true);
  });

  it('a MeSH heading counts only whole: "Hypertension, Portal" is not hypertension', async () => {
    const portal = await judge('Hypertension', [], {
      abstract: 'CONCLUSIONS: Variceal bleeding was controlled.',
      mesh: ['Hypertension, Portal', 'Esophageal and Gastric Varices'],
    });
    expect(portal).toMatchObject({ relevant: false, problemIn: null });
  });

  it('a mention in passing (only in the body) is not enough; another condition is not the problem', async () => {
    const passing = await judge('Atrial fibrillation', [], {
      abstract: 'BACKGROUND: Patients with atrial fibrillation were excluded. CONCLUSIONS: Knee replacement was safe.',
      mesh: ['Arthroplasty, Replacement, Knee'],
    });
    expect(passing).toMatchObject({ relevant: false, problemIn: 'body' });
    expect(passing.reason).toBe(
      'mentions Atrial fibrillation only in passing (not in its title, conclusions or MeSH headings)',
    );
    const other = await judge('Atrial fibrillation', [], {
      abstract: 'CONCLUSIONS: Closure of an atrial septal defect in adults is safe.',
      mesh: ['Heart Septal Defects, Atrial'],
    });
    expect(other).toMatchObject({ relevant: false, problemIn: null, reason: 'not about Atrial fibrillation' });
  });

  it('a medication question also needs the drug or its class; otherwise the drugs are only noted', async () => {
    const record = { abstract: 'CONCLUSIONS: In atrial fibrillation, rate control was as good as rhythm control.' };
    expect((await judge('Atrial fibrillation', ['warfarin'], record, true)).relevant).toBe(false);
    expect((await judge('Atrial fibrillation', ['warfarin'], record, false)).relevant).toBe(true);
    const cls = await judge(
      'Atrial fibrillation',
      ['warfarin'],
      { abstract: 'CONCLUSIONS: In atrial fibrillation, anticoagulants reduced stroke.', mesh: ['Anticoagulants'] },
      true,
    );
    // "Anticoagulants" is the class above warfarin.
    expect(cls).toMatchObject({ relevant: true, drugMatched: true });
  });

  it('a problem the knowledge base does not know is reported as not checked, never guessed', async () => {
    const d = await judge('Lace plant perforation', [], { abstract: 'CONCLUSIONS: Leaves perforate.' });
    expect(d.relevant).toBe(false);
    expect(d.reason).toMatch(/does not know “Lace plant perforation” as a condition/);
  });
});

describe('the search uses the knowledge base’s names', () => {
  it('a term is searched with its synonyms and MeSH names, never its lay words or short abbreviations', async () => {
    const client = new LocalKnowledgeBaseClient(starter.kb().store);
    const { data } = await client.lookup(
      { terms: ['Essential hypertension', 'Chronic kidney disease stage 3b'] },
      new AbortController().signal,
    );
    const [htn, ckd] = data.resolved;
    expect(htn!.entity!.name).toBe('Hypertension');
    expect(htn!.searchNames[0]).toBe('Hypertension');
    expect(htn!.searchNames).toContain('essential hypertension');
    expect(htn!.searchNames).not.toContain('HTN');
    expect(ckd!.searchNames).toContain('chronic renal insufficiency');
    expect(
      buildPubmedQuery(
        { intent: 'x', terms: ['Essential hypertension'], synonyms: [['Hypertension']], sinceYears: null },
        new Date('2026-12-01T00:00:00Z'),
      ),
    ).toBe(
      '("Essential hypertension"[tiab] OR "Essential hypertension"[mh] OR "Hypertension"[tiab] OR "Hypertension"[mh]) AND humans[mh]',
    );
  });
});
