/**
 * A citation's evidence level (publication types, study-design MeSH) and its supporting quote
 * (CONCLUSIONS first, with offsets that point into the abstract). Records are SYNTHETIC texts in
 * the shape of PubMed abstracts; the publication types and MeSH descriptors are NLM's names.
 */
import { describe, expect, it } from 'vitest';
import { evidenceLevel, sections, supportingQuote } from '../../src/tools/literature/evidence.js';
import { rankCitations } from '../../src/tools/literature/eutils-client.js';

const ABSTRACT =
  'BACKGROUND: Metformin is first-line in type 2 diabetes. METHODS: We followed 400 adults with CKD. RESULTS: Lactic acidosis was rare. Metformin was stopped in 12. CONCLUSIONS: Metformin at reduced dose was safe in CKD stage 3.';

describe('evidence level', () => {
  it('publication types decide, strongest first; study-design MeSH places observational studies', () => {
    expect(evidenceLevel(['Journal Article', 'Practice Guideline'], [])).toBe('practice_guideline');
    expect(evidenceLevel(['Meta-Analysis', 'Randomized Controlled Trial'], [])).toBe('systematic_review');
    expect(evidenceLevel(['Randomized Controlled Trial'], [])).toBe('randomised_trial');
    expect(evidenceLevel(['Journal Article'], ['Humans', 'Retrospective Studies'])).toBe('cohort_case_control');
    expect(evidenceLevel(['Case Reports'], [])).toBe('case_report');
    // "… as Topic" descriptors are about trials, not trials.
    expect(evidenceLevel(['Journal Article'], ['Randomized Controlled Trials as Topic'])).toBe('other');
    expect(evidenceLevel([], [])).toBe('other');
  });

  it('citations are ordered by level, the search order kept within a level', () => {
    const rec = (pmid: string, publicationTypes: string[], mesh: string[] = []) => ({
      pmid,
      title: '',
      abstract: ABSTRACT,
      journal: '',
      year: 2020,
      authors: [],
      publicationTypes,
      mesh,
    });
    const ranked = rankCitations(
      [
        rec('1', []),
        rec('2', ['Case Reports']),
        rec('3', ['Randomized Controlled Trial']),
        rec('4', [], ['Cohort Studies']),
        rec('5', ['Meta-Analysis']),
      ],
      ['metformin'],
    );
    expect(ranked.map((c) => `${c.pmid}:${c.evidenceLevel}`)).toEqual([
      '5:systematic_review',
      '3:randomised_trial',
      '4:cohort_case_control',
      '2:case_report',
      '1:other',
    ]);
  });
});

describe('supporting quote', () => {
  it('reads the sections of a structured abstract with their offsets', () => {
    expect(sections(ABSTRACT).map((s) => [s.label, ABSTRACT.slice(s.start, s.end).trim().slice(0, 14)])).toEqual([
      ['BACKGROUND', 'Metformin is f'],
      ['METHODS', 'We followed 40'],
      ['RESULTS', 'Lactic acidosi'],
      ['CONCLUSIONS', 'Metformin at r'],
    ]);
  });

  it('prefers the conclusions; its offsets point at the sentence in the abstract', () => {
    const q = supportingQuote({ title: '', abstract: ABSTRACT }, ['metformin', 'chronic kidney disease'])!;
    expect(q).toMatchObject({ section: 'CONCLUSIONS', text: 'Metformin at reduced dose was safe in CKD stage 3.' });
    expect(ABSTRACT.slice(q.start, q.end)).toBe(q.text);
  });

  it('falls back to the best sentence elsewhere, then to the conclusions, then to the title', () => {
    const q = supportingQuote({ title: '', abstract: ABSTRACT }, ['lactic acidosis'])!;
    expect(q).toMatchObject({ section: 'RESULTS', text: 'Lactic acidosis was rare.' });
    expect(ABSTRACT.slice(q.start, q.end)).toBe(q.text);
    expect(supportingQuote({ title: '', abstract: ABSTRACT }, ['warfarin'])!.section).toBe('CONCLUSIONS');
    expect(supportingQuote({ title: 'A title.', abstract: null }, ['x'])).toEqual({
      text: 'A title.',
      section: 'TITLE',
      start: 0,
      end: 8,
    });
    const plain = 'Unstructured text about warfarin. Another sentence.';
    expect(supportingQuote({ title: '', abstract: plain }, ['warfarin'])).toEqual({
      text: 'Unstructured text about warfarin.',
      section: null,
      start: 0,
      end: 33,
    });
  });
});
