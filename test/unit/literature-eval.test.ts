/** The retrieval evaluation on a tiny synthetic set in PubMedQA's format (labelled; not real questions). */
import { describe, expect, it } from 'vitest';
import { evaluateRetrieval, parsePubmedQa, questionQuery } from '../../services/literature/evaluate.js';

const SYNTHETIC = {
  '990000101': {
    QUESTION: 'SYNTHETIC: does metformin dosing change in chronic kidney disease?',
    CONTEXTS: ['Synthetic context about metformin dose reduction in chronic kidney disease.'],
    MESHES: ['Metformin'],
    YEAR: '2020',
  },
  '990000102': {
    QUESTION: 'SYNTHETIC: is warfarin with ibuprofen linked to bleeding?',
    CONTEXTS: ['Synthetic context: warfarin users taking ibuprofen had more bleeding.'],
    MESHES: ['Warfarin'],
    YEAR: '2019',
  },
  '990000103': {
    QUESTION: 'SYNTHETIC: are penicillin allergy labels often wrong?',
    CONTEXTS: ['Synthetic context: most penicillin allergy labels were removed after testing.'],
    MESHES: ['Penicillins'],
    YEAR: '2021',
  },
};

describe('literature retrieval evaluation', () => {
  it('scores each question by the rank of its own PMID', () => {
    const items = parsePubmedQa(SYNTHETIC);
    expect(questionQuery(items[0]!.question)).toBe(
      '"synthetic"[tiab] OR "metformin"[tiab] OR "dosing"[tiab] OR "change"[tiab] OR "chronic"[tiab] OR "kidney"[tiab] OR "disease"[tiab]',
    );
    for (const ranking of ['tuned', 'default'] as const) {
      expect(evaluateRetrieval(items, ranking)).toEqual({
        ranking,
        questions: 3,
        recallAt1: 1,
        recallAt5: 1,
        recallAt10: 1,
        mrr: 1,
      });
    }
  });
});
