/**
 * Normalisation against the starter knowledge base: brand, generic, salt, Chinese, lay,
 * misspelt and coded terms map to canonical entities; anything else is unknown, never guessed.
 */
import { describe, expect, it } from 'vitest';
import { resolveTerm, type TermContext } from '../../src/knowledge/resolve.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();

const ids = (term: string, context: TermContext = 'medication') =>
  resolveTerm(starter.snapshot(), term, context).entities.map((e) => e.id);

describe('normalisation', () => {
  it.each([
    ['Coumadin', 'drug:warfarin'],
    ['Jantoven 5 mg tablet', 'drug:warfarin'],
    ['Zestril', 'drug:lisinopril'],
    ['Glucophage XR 500mg', 'drug:metformin'],
    ['Tylenol', 'drug:paracetamol'],
    ['acetaminophen', 'drug:paracetamol'],
    ['Nurofen®', 'drug:ibuprofen'],
    ['Lasix', 'drug:furosemide'],
    ['Eliquis', 'drug:apixaban'],
    ['Entresto', 'product:sacubitril-valsartan'],
    ['Bactrim DS', 'product:co-trimoxazole'],
    ['Augmentin 625 mg', 'product:co-amoxiclav'],
  ])('brand or generic: %s → %s', (term, id) => expect(ids(term)).toEqual([id]));

  it.each([
    ['胃复安', 'drug:metoclopramide'],
    ['甲氧氯普胺', 'drug:metoclopramide'],
    ['甲氧氯普胺片', 'drug:metoclopramide'],
    ['华法林钠片', 'drug:warfarin'],
    ['盐酸二甲双胍缓释片', 'drug:metformin'],
    ['阿莫西林胶囊', 'drug:amoxicillin'],
    ['阿托伐他汀钙片', 'drug:atorvastatin'],
    ['氯沙坦钾', 'drug:losartan'],
    ['对乙酰氨基酚', 'drug:paracetamol'],
    ['吗丁啉', 'drug:domperidone'],
  ])('Chinese: %s → %s', (term, id) => expect(ids(term)).toEqual([id]));

  it.each([
    ['water pill', 'class:diuretics'],
    ['Water tablets', 'class:diuretics'],
    ['blood thinner', 'class:anticoagulants'],
    ['blood thinners', 'class:anticoagulants'],
    ['steroids', 'class:corticosteroids'],
    ['baby aspirin', 'drug:aspirin'],
    ['sleeping pills', 'class:sedative-hypnotics'],
  ])('lay term: %s → %s', (term, id) => expect(ids(term)).toEqual([id]));

  it.each([
    ['metoprolol succinate ER 47.5 mg tab', 'drug:metoprolol'],
    ['amlodipine besylate', 'drug:amlodipine'],
    ['losartan potassium 50 mg', 'drug:losartan'],
    ['sertraline HCl', 'drug:sertraline'],
    ['doxycycline hyclate', 'drug:doxycycline'],
    ['metformin hydrochloride 500 mg tablet', 'drug:metformin'],
  ])('salt and form: %s → %s', (term, id) => expect(ids(term)).toEqual([id]));

  it.each([
    ['ibuprofin', 'drug:ibuprofen'],
    ['metformine', 'drug:metformin'],
    ['amoxicilin', 'drug:amoxicillin'],
    ['paracetemol', 'drug:paracetamol'],
  ])('curated misspelling: %s → %s', (term, id) => {
    const r = resolveTerm(starter.snapshot(), term, 'medication');
    expect(r.entities.map((e) => e.id)).toEqual([id]);
    expect(r.entities[0]!.match).toBe('exact');
  });

  it('combinations written out resolve to each ingredient', () => {
    expect(ids('amoxicillin/clavulanate').sort()).toEqual(['drug:amoxicillin', 'drug:clavulanic-acid']);
    expect(ids('sulfamethoxazole + trimethoprim').sort()).toEqual(['drug:sulfamethoxazole', 'drug:trimethoprim']);
  });

  it('an RxNorm code wins over an unrecognised name, and agrees with a recognised one', () => {
    expect(
      resolveTerm(
        starter.snapshot(),
        { text: 'Pharmacy item 4471', codes: [{ system: 'rxnorm', code: '11289' }] },
        'medication',
      ).entities.map((e) => [e.id, e.match]),
    ).toEqual([['drug:warfarin', 'code']]);
    expect(ids('Coumadin')).toEqual(
      resolveTerm(
        starter.snapshot(),
        { text: 'Coumadin', codes: [{ system: 'rxnorm', code: '11289' }] },
        'medication',
      ).entities.map((e) => e.id),
    );
  });

  it('a code that contradicts the name is unknown, with the conflict explained', () => {
    const r = resolveTerm(
      starter.snapshot(),
      { text: 'ibuprofen', codes: [{ system: 'rxnorm', code: '11289' }] },
      'medication',
    );
    expect(r.entities).toEqual([]);
    expect(r.conflict).toMatch(/RXNORM code 11289 is Warfarin but the name “ibuprofen” is Ibuprofen/);
  });

  it('unknown terms are unknown: suggestions are offered, never used', () => {
    for (const t of ['zzzdrug', 'warfarn', 'Panadolx extra', 'water', 'blood', 'pill']) expect(ids(t), t).toEqual([]);
    expect(resolveTerm(starter.snapshot(), 'warfarn', 'medication').suggestions).toContain('Warfarin');
  });

  it('conditions: codes, synonyms, Chinese and phrases inside problem text', () => {
    // The most specific condition named (CKD stage 4–5, a kind of CKD, from the Beers pack).
    expect(ids('CKD stage 4 with type 2 diabetes', 'condition').sort()).toEqual([
      'cond:ckd-stage-4-5',
      'cond:type-2-diabetes',
    ]);
    expect(ids('CKD stage 3 with type 2 diabetes', 'condition').sort()).toEqual(['cond:ckd', 'cond:type-2-diabetes']);
    expect(ids('慢性肾脏病', 'condition')).toEqual(['cond:ckd']);
    expect(ids('HFrEF', 'condition')).toEqual(['cond:hfref']);
    expect(
      resolveTerm(
        starter.snapshot(),
        { text: 'problem 7', codes: [{ system: 'icd10', code: 'E11' }] },
        'condition',
      ).entities.map((e) => e.id),
    ).toEqual(['cond:type-2-diabetes']);
    expect(ids('ingrown toenail', 'condition')).toEqual([]);
  });

  it('allergy context prefers allergen classes: "penicillin" is the penicillin allergy', () => {
    expect(ids('penicillin', 'allergy')).toEqual(['allergen:penicillin']);
    expect(ids('sulfa', 'allergy')).toEqual(['allergen:sulfonamide-antibiotic']);
    // A medicine written just "penicillin" is some penicillin: the class, so class-level checks still apply.
    expect(ids('penicillin', 'medication')).toEqual(['class:penicillins']);
  });
});
