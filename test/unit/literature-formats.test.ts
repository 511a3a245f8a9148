/**
 * PubMed formats and query syntax: efetch XML (structured abstracts, inline markup, MedlineDate,
 * collective authors, MeSH, publication types), esearch XML and JSON, the XML written back by
 * the local service, and the query builder and parser. Fixtures are synthetic and labelled.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEsearch, parsePubmedXml, PubmedFormatError, toPubmedXml } from '../../src/tools/literature/pubmed-xml.js';
import { buildPubmedQuery, parsePubmedQuery, QuerySyntaxError } from '../../src/tools/literature/query.js';

const fixture = (f: string) => readFileSync(new URL(`../fixtures/literature/${f}`, import.meta.url), 'utf8');

describe('PubMed XML', () => {
  const records = parsePubmedXml(fixture('synthetic-pubmed.xml'));

  it('parses every article into a typed record', () => {
    expect(records.map((r) => r.pmid)).toEqual([
      '990000001',
      '990000002',
      '990000003',
      '990000004',
      '990000005',
      '990000006',
    ]);
    expect(records[0]).toEqual({
      pmid: '990000001',
      title: 'SYNTHETIC TEST RECORD: guideline on metformin dosing in chronic kidney disease',
      abstract:
        'BACKGROUND: Metformin is widely used in type 2 diabetes. RECOMMENDATIONS: Reduce the metformin dose when eGFR falls below 45 and stop it below 30 in chronic kidney disease.',
      journal: 'Synthetic Journal of Nephrology',
      year: 2023,
      authors: ['Testperson AB', 'Synthetic Guideline Group'],
      publicationTypes: ['Practice Guideline', 'Journal Article'],
      mesh: ['Humans', 'Metformin', 'Renal Insufficiency, Chronic'],
    });
    expect(records[1]!.year).toBe(2021); // from <MedlineDate>2021 Jan-Feb</MedlineDate>
    expect(records[5]!.abstract).toBeNull();
  });

  it('round-trips through the XML the local service writes', () => {
    expect(parsePubmedXml(toPubmedXml(records))).toEqual(records);
  });

  it('refuses malformed or foreign documents with a coded error', () => {
    for (const bad of [
      '<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>abc</PMID></MedlineCitation></PubmedArticle></PubmedArticleSet>',
      '<html>nope</html>',
      '<eFetchResult><ERROR>Empty id list</ERROR></eFetchResult>',
    ]) {
      expect(() => parsePubmedXml(bad), bad).toThrow(PubmedFormatError);
    }
  });

  it('parses esearch answers in XML and JSON', () => {
    expect(parseEsearch(fixture('esearch.xml'))).toEqual({
      count: 2,
      ids: ['990000002', '990000003'],
      queryTranslation: 'SYNTHETIC TEST DATA',
    });
    expect(parseEsearch(fixture('esearch.json'))).toEqual({
      count: 2,
      ids: ['990000001', '990000002'],
      queryTranslation: 'SYNTHETIC TEST DATA',
    });
    expect(() => parseEsearch('{"esearchresult":{"ERROR":"Invalid query"}}')).toThrow(/Invalid query/);
    expect(() => parseEsearch('<eSearchResult><ERROR>Empty term</ERROR></eSearchResult>')).toThrow(/Empty term/);
  });
});

describe('queries', () => {
  const now = new Date('2026-11-25T00:00:00Z');
  it('builds a tagged PubMed query with filters from a step', () => {
    expect(
      buildPubmedQuery(
        {
          intent: 'x',
          terms: ['chronic kidney disease', 'metformin', 'sitagliptin'],
          publicationTypes: ['Practice Guideline'],
        },
        now,
      ),
    ).toBe(
      '("chronic kidney disease"[tiab] OR "chronic kidney disease"[mh]) AND (("metformin"[tiab] OR "metformin"[mh]) OR ("sitagliptin"[tiab] OR "sitagliptin"[mh])) AND humans[mh] AND ("2016"[dp] : "3000"[dp]) AND ("Practice Guideline"[pt])',
    );
    expect(buildPubmedQuery({ intent: 'x', terms: ['gout [x] (y)'], humansOnly: false, sinceYears: null }, now)).toBe(
      '("gout x y"[tiab] OR "gout x y"[mh])',
    );
  });

  it('parses what it builds, and PubMed-style syntax', () => {
    expect(parsePubmedQuery('metformin[tiab] AND ("2016"[dp] : "3000"[dp]) NOT rats[mh]')).toEqual({
      kind: 'not',
      left: {
        kind: 'and',
        children: [
          { kind: 'term', text: 'metformin', field: 'tiab' },
          { kind: 'range', field: 'dp', from: 2016, to: 3000 },
        ],
      },
      right: { kind: 'term', text: 'rats', field: 'mh' },
    });
    expect(parsePubmedQuery('warfarin bleeding').kind).toBe('and');
    expect(() => parsePubmedQuery(buildPubmedQuery({ intent: 'x', terms: ['a', 'b'] }, now))).not.toThrow();
    for (const bad of ['(metformin', '"open', 'metformin[nonsense]', 'AND'])
      expect(() => parsePubmedQuery(bad), bad).toThrow(QuerySyntaxError);
  });
});
