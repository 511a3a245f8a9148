/**
 * Every safety check type over the starter knowledge base, with positive and negative cases.
 * Findings must carry a severity, an explanation and the ids of the active facts they rest on.
 */
import { describe, expect, it } from 'vitest';
import { runCheck, type CheckOutcome } from '../../src/knowledge/checks.js';
import { SafetyCheckInput, type SafetyCheckInput as In } from '../../src/domain/knowledge.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();

type Med = {
  name: string;
  dose?: { value: number; unit: string } | null;
  route?: string | null;
  frequencyPerDay?: number | null;
};
const med = (m: Med | string) =>
  typeof m === 'string'
    ? { name: m, dose: null, route: null, frequencyPerDay: null }
    : { dose: null, route: null, frequencyPerDay: null, ...m };
function check(kind: In['kind'], meds: Array<Med | string>, extra: Partial<In> = {}): CheckOutcome {
  const out = runCheck(starter.snapshot(), SafetyCheckInput.parse({ kind, medications: meds.map(med), ...extra }));
  // Every finding rests on facts that exist and are active in this snapshot.
  for (const f of out.findings) {
    expect(f.factIds.length).toBeGreaterThan(0);
    for (const id of f.factIds)
      expect(starter.snapshot().facts.get(id)?.status, `${f.summary} cites ${id}`).toBe('active');
    expect(f.explanation.length).toBeGreaterThan(10);
  }
  return out;
}
const one = (out: CheckOutcome) => {
  expect(out.findings, JSON.stringify(out.findings.map((f) => f.summary))).toHaveLength(1);
  return out.findings[0]!;
};

describe('interactions', () => {
  it('class-level rule: any NSAID with any anticoagulant', () => {
    for (const [a, b] of [
      ['warfarin', 'ibuprofen'],
      ['Eliquis', 'naproxen'],
      ['rivaroxaban', 'Voltaren'],
      ['blood thinner', 'celecoxib'],
    ]) {
      const f = one(check('interaction', [a!, b!]));
      expect(f.severity).toBe('high');
      expect(f.factIds).toContain('ix:class:anticoagulants~class:nsaids');
      expect(f.medications).toEqual([a, b]);
    }
  });

  it('ingredient rules, through products and brands', () => {
    const f = one(check('interaction', ['methotrexate 2.5 mg', 'Bactrim DS']));
    expect(f.severity).toBe('critical');
    expect(f.factIds).toEqual(
      expect.arrayContaining([
        'ix:drug:methotrexate~drug:trimethoprim',
        'ing:product:co-trimoxazole~drug:trimethoprim',
      ]),
    );
  });

  it('risk groups: QT-prolonging pairs and serotonergic combinations', () => {
    expect(one(check('interaction', ['citalopram', 'clarithromycin'])).factIds).toContain(
      'ix:class:qt-prolonging~class:qt-prolonging',
    );
    const maoi = check('interaction', ['phenelzine', 'sertraline']).findings[0]!;
    expect(maoi.severity).toBe('critical');
    expect(one(check('interaction', ['tramadol', 'fluoxetine'])).severity).toBe('high');
    expect(one(check('interaction', ['sumatriptan', 'sertraline'])).severity).toBe('moderate');
  });

  it('potassium-sparing diuretics with ACE inhibitors or ARBs', () => {
    expect(one(check('interaction', ['spironolactone', 'lisinopril'])).severity).toBe('high');
    expect(one(check('interaction', ['amiloride', 'Cozaar'])).severity).toBe('high');
  });

  it('reports every interacting pair of a list, most severe first, and nothing for safe pairs', () => {
    const out = check('interaction', ['warfarin', 'ibuprofen', 'paracetamol', 'amlodipine', 'simvastatin 40 mg']);
    expect(out.findings.map((f) => f.medications.join('+'))).toEqual([
      'warfarin+ibuprofen',
      'amlodipine+simvastatin 40 mg',
    ]);
  });

  it('negative: no finding for pairs with no rule', () => {
    for (const pair of [
      ['paracetamol', 'amoxicillin'],
      ['metformin', 'atorvastatin'],
      ['pantoprazole', 'clopidogrel'],
      ['losartan', 'hydrochlorothiazide'],
      ['levothyroxine', 'amlodipine'],
    ]) {
      expect(check('interaction', pair).findings, pair.join('+')).toEqual([]);
    }
  });

  it('unknown medicines are listed as unchecked, never approximated', () => {
    const out = check('interaction', ['warfarn', 'ibuprofen']);
    expect(out.findings).toEqual([]);
    expect(out.unknownTerms).toEqual(['warfarn']);
    expect(out.unchecked[0]!.reason).toMatch(/not in the knowledge base \(did you mean Warfarin\?\)/);
  });
});

describe('allergies', () => {
  it('penicillin allergy: every penicillin, including combinations', () => {
    for (const m of ['amoxicillin', 'Augmentin', 'piperacillin-tazobactam', 'flucloxacillin']) {
      const f = one(check('allergy', [m], { allergies: ['penicillin'] }));
      expect(f.severity, m).toBe('critical');
      expect(f.factIds).toContain('xr:allergen:penicillin~class:penicillins');
    }
  });

  it('cross-reactivity: penicillin allergy and cephalosporins (moderate), carbapenems (low)', () => {
    expect(one(check('allergy', ['cefalexin'], { allergies: ['Penicillin allergy'] })).severity).toBe('moderate');
    expect(one(check('allergy', ['meropenem'], { allergies: ['penicillins'] })).severity).toBe('low');
  });

  it('an allergy to one member stands for its class: amoxicillin allergy → cephalosporin cross-reactivity', () => {
    const f = one(check('allergy', ['ceftriaxone'], { allergies: ['amoxicillin'] }));
    expect(f.severity).toBe('moderate');
    expect(f.explanation).toMatch(/Amoxicillin is in Penicillins/);
  });

  it('sulfa allergy covers co-trimoxazole but not furosemide; NSAID hypersensitivity', () => {
    expect(one(check('allergy', ['Bactrim'], { allergies: ['sulfa'] })).severity).toBe('critical');
    expect(check('allergy', ['furosemide', 'hydrochlorothiazide'], { allergies: ['sulfa'] }).findings).toEqual([]);
    expect(one(check('allergy', ['naproxen'], { allergies: ['ibuprofen'] })).severity).toBe('high');
    expect(one(check('allergy', ['celecoxib'], { allergies: ['NSAIDs'] })).severity).toBe('low');
  });

  it('negative: unrelated drugs, and unknown allergies are reported as unchecked', () => {
    expect(check('allergy', ['azithromycin', 'doxycycline'], { allergies: ['penicillin'] }).findings).toEqual([]);
    const out = check('allergy', ['amoxicillin'], { allergies: ['shellfish'] });
    expect(out.findings).toEqual([]);
    expect(out.unchecked.map((u) => u.term)).toEqual(['shellfish']);
    expect(out.unchecked[0]!.reason).toMatch(/not in the knowledge base/);
  });
});

describe('contraindications', () => {
  it('fires for the condition and for its more specific forms', () => {
    const f = one(check('contraindication', ['ibuprofen'], { conditions: ['Chronic kidney disease stage 4'] }));
    expect(f.severity).toBe('moderate');
    expect(f.factIds).toContain('ci:class:nsaids~cond:ckd');
    // HFrEF is a kind of heart failure: the NSAID rule on heart failure applies, and the verapamil rule on HFrEF.
    expect(one(check('contraindication', ['naproxen'], { conditions: ['HFrEF'] })).factIds).toContain(
      'ci:class:nsaids~cond:heart-failure',
    );
    expect(one(check('contraindication', ['verapamil'], { conditions: ['HFrEF, EF 30%'] })).severity).toBe('high');
    expect(one(check('contraindication', ['lisinopril'], { conditions: ['Pregnancy'] })).severity).toBe('critical');
    expect(one(check('contraindication', ['propranolol'], { conditions: ['asthma'] })).severity).toBe('high');
    expect(one(check('contraindication', ['胃复安'], { conditions: ['帕金森病'] })).severity).toBe('critical');
  });

  it('negative: no rule, or a more general condition than the rule names', () => {
    expect(check('contraindication', ['ibuprofen', 'amlodipine'], { conditions: ['hypertension'] }).findings).toEqual(
      [],
    );
    expect(check('contraindication', ['verapamil'], { conditions: ['heart failure'] }).findings).toEqual([]);
    expect(check('contraindication', ['metoprolol'], { conditions: ['asthma'] }).findings).toEqual([]);
  });
});

describe('dose ranges', () => {
  const adult = { ageBand: '54', sex: 'female' };
  it('unit conversion: grams against a milligram range, per dose and per day', () => {
    expect(
      check(
        'dose',
        [{ name: 'paracetamol', dose: { value: 0.5, unit: 'g' }, route: 'oral', frequencyPerDay: 4 }],
        adult,
      ).findings,
    ).toEqual([]);
    const day = one(
      check('dose', [{ name: 'paracetamol', dose: { value: 1, unit: 'g' }, route: 'oral', frequencyPerDay: 6 }], adult),
    );
    expect(day.summary).toMatch(/6000 mg per day is above the maximum of 4000 mg/);
    expect(day.severity).toBe('high');
    expect(
      one(
        check('dose', [{ name: 'Tylenol', dose: { value: 1500, unit: 'mg' }, route: 'PO', frequencyPerDay: 2 }], adult),
      ).summary,
    ).toMatch(/1500 mg per dose/);
    expect(
      check(
        'dose',
        [{ name: 'ondansetron', dose: { value: 8000, unit: 'mcg' }, route: 'intravenous', frequencyPerDay: 1 }],
        adult,
      ).findings,
    ).toEqual([]);
  });

  it('renal adjustment from a reported eGFR (metformin bands)', () => {
    const metformin = { name: 'metformin', dose: { value: 1000, unit: 'mg' }, route: 'oral', frequencyPerDay: 2 };
    expect(check('dose', [metformin], { ...adult, renal: { egfr: 70, creatinineMgDl: null } }).findings).toEqual([]);
    const mid = one(check('dose', [metformin], { ...adult, renal: { egfr: 38, creatinineMgDl: null } }));
    expect(mid.summary).toMatch(/2000 mg per day is above the maximum of 1000 mg in this renal band/);
    expect(mid.factIds[0]).toBe('dose:drug:metformin:oral:day:age18-:egfr30-45');
    expect(one(check('dose', [metformin], { ...adult, renal: { egfr: 22, creatinineMgDl: null } })).severity).toBe(
      'critical',
    );
  });

  it('renal adjustment from a recent creatinine: CKD-EPI eGFR, Cockcroft–Gault CrCl with weight', () => {
    // 80-year-old woman, 55 kg, creatinine 1.6 mg/dL: CrCl ≈ 27 mL/min → gabapentin band 15–30 (max 700 mg/day).
    const out = check(
      'dose',
      [{ name: 'gabapentin', dose: { value: 300, unit: 'mg' }, route: 'oral', frequencyPerDay: 3 }],
      {
        ageBand: '80',
        sex: 'female',
        weightKg: 55,
        renal: { egfr: null, creatinineMgDl: 1.6, creatinineDaysAgo: 5 },
      },
    );
    const f = one(out);
    expect(f.factIds[0]).toBe('dose:drug:gabapentin:oral:day:age18-:crcl15-30');
    expect(f.explanation).toMatch(/Cockcroft/);
  });

  it('an old creatinine is not used: renal bands are reported as not checked', () => {
    const out = check(
      'dose',
      [{ name: 'metformin', dose: { value: 500, unit: 'mg' }, route: 'oral', frequencyPerDay: 2 }],
      { ...adult, renal: { egfr: null, creatinineMgDl: 2.5, creatinineDaysAgo: 400 } },
    );
    expect(out.findings).toEqual([]);
    expect(out.unchecked.map((u) => u.reason).join(' ')).toMatch(/renal function unknown/);
  });

  it('age bands: citalopram over 60', () => {
    const c40 = { name: 'citalopram', dose: { value: 40, unit: 'mg' }, route: 'oral', frequencyPerDay: 1 };
    expect(check('dose', [c40], { ageBand: '45' }).findings).toEqual([]);
    expect(one(check('dose', [c40], { ageBand: '72' })).summary).toMatch(/above the maximum of 20 mg/);
    expect(one(check('dose', [c40], { ageBand: '90+' })).factIds[0]).toMatch(/^dose:drug:citalopram/);
  });

  it('weekly ranges: methotrexate taken daily in error is critical', () => {
    const weekly = { name: 'methotrexate', dose: { value: 15, unit: 'mg' }, route: 'oral', frequencyPerDay: 1 / 7 };
    expect(check('dose', [weekly], adult).findings).toEqual([]);
    expect(one(check('dose', [{ ...weekly, frequencyPerDay: 1 }], adult)).severity).toBe('critical');
  });

  it('what cannot be checked is said: no range, non-mass units, missing frequency, children', () => {
    const out = check(
      'dose',
      [
        { name: 'warfarin', dose: { value: 5, unit: 'mg' }, route: 'oral', frequencyPerDay: 1 },
        { name: 'amoxicillin', dose: { value: 5, unit: 'mL' }, route: 'oral', frequencyPerDay: 3 },
        { name: 'sertraline', dose: { value: 100, unit: 'mg' }, route: 'oral', frequencyPerDay: null },
      ],
      adult,
    );
    expect(out.findings).toEqual([]);
    const reasons = Object.fromEntries(out.unchecked.map((u) => [u.term, u.reason]));
    expect(reasons.warfarin).toMatch(/no dose range/);
    expect(reasons.amoxicillin).toMatch(/cannot be compared with a mass range/);
    expect(reasons.sertraline).toMatch(/frequency not stated/);
    expect(check('dose', ['sertraline'], { ageBand: '12' }).unchecked[0]!.reason).toMatch(/under 18/);
  });
});

describe('duplicate therapy', () => {
  it('same ingredient under two names is high; two drugs of one class is moderate', () => {
    const same = one(check('duplicate_therapy', ['Tylenol', 'co-codamol']));
    expect(same.severity).toBe('high');
    expect(same.summary).toMatch(/both contain Paracetamol/);
    const cls = one(check('duplicate_therapy', ['ibuprofen', 'naproxen']));
    expect(cls.severity).toBe('moderate');
    expect(cls.summary).toMatch(/both NSAIDs/);
    expect(one(check('duplicate_therapy', ['sertraline', 'citalopram'])).summary).toMatch(
      /Selective serotonin reuptake inhibitors/,
    );
  });

  it('negative: intended combinations of different classes', () => {
    expect(check('duplicate_therapy', ['aspirin', 'clopidogrel']).findings).toEqual([]);
    expect(check('duplicate_therapy', ['metformin', 'sitagliptin', 'empagliflozin']).findings).toEqual([]);
    expect(check('duplicate_therapy', ['lisinopril', 'amlodipine', 'hydrochlorothiazide']).findings).toEqual([]);
  });
});
