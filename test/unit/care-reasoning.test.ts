/**
 * Care-plan reasoning over the starter knowledge base (src/knowledge/reasoning.ts), one test per
 * reasoning step with positive and negative cases, and the patient wording in both languages.
 * The patients are SYNTHETIC; the facts asserted are the knowledge base's own rows (each with its
 * source in kb/starter).
 */
import { describe, expect, it } from 'vitest';
import { CareReasoningInput, type CareReasoningInput as Input } from '../../src/domain/care-reasoning.js';
import { reasonCarePlan } from '../../src/knowledge/reasoning.js';
import { patientTexts } from '../../src/agents/care-plan-text.js';
import { PHRASES } from '../../src/agents/patient-communication/index.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();
const med = (name: string, dose: number | null = null, perDay: number | null = null, unit = 'mg') => ({
  name,
  dose: dose === null ? null : { value: dose, unit },
  route: 'oral',
  frequencyPerDay: perDay,
});
const reason = (input: Input) => reasonCarePlan(starter.snapshot(), CareReasoningInput.parse(input));
const action = (r: ReturnType<typeof reason>, id: string) => {
  const a = r.actions.find((x) => x.id === id);
  expect(a, `${id} in ${r.actions.map((x) => x.id).join(', ')}`).toBeDefined();
  return a!;
};

/** SYNTHETIC: the dental case — penicillin allergy (urticaria), warfarin for AF, amoxicillin started for an abscess. */
const dental: Input = {
  medications: [med('warfarin', 5, 1), { ...med('amoxicillin', 500, 3), startedDaysBeforeCase: 1 }],
  allergies: ['penicillin'],
  conditions: ['Atrial fibrillation', 'Dental abscess'],
  ageBand: '58',
  sex: 'female',
};

describe('alternatives', () => {
  it('offers drugs that treat the recorded indication, each re-checked for this patient', () => {
    const a = action(reason(dental), 'switch:amoxicillin');
    expect(a.kind).toBe('switch');
    expect(a.alternatives.map((x) => x.name)).toEqual(expect.arrayContaining(['Azithromycin', 'Clindamycin']));
    const azi = a.alternatives.find((x) => x.name === 'Azithromycin')!;
    expect(azi.indication).toBe('Dental abscess');
    expect(azi.fullyChecked).toBe(true);
    expect(azi.dose).toMatch(/^up to 500 mg per day \(oral\)/);
    // The moderate azithromycin–warfarin interaction is a caution with its management, not a pass.
    expect(azi.passed).not.toContain('interaction');
    expect(azi.cautions.join(' ')).toMatch(/warfarin with Azithromycin.*Monitor prothrombin time \/ INR/);
    expect(a.actionable).toBe(true);
    // Every step of the chain cites facts the result carries.
    const facts = new Set(reason(dental).facts.map((f) => f.id));
    for (const id of [...a.factIds, ...a.chain.flatMap((l) => l.factIds)]) expect(facts.has(id), id).toBe(true);
    expect(a.chain.map((l) => l.kind)).toEqual(['finding', 'indication', 'excluded']);
  });

  it('never offers a candidate that fails a check, and names why it was ruled out', () => {
    const a = action(reason(dental), 'switch:amoxicillin');
    const offered = a.alternatives.map((x) => x.name);
    for (const ruledOut of ['Phenoxymethylpenicillin', 'Metronidazole', 'Cefalexin'])
      expect(offered).not.toContain(ruledOut);
    const why = Object.fromEntries(a.excluded.map((e) => [e.name, e.reason]));
    expect(why.Phenoxymethylpenicillin).toMatch(/^allergy, critical/);
    expect(why.Metronidazole).toMatch(/^interaction, high: warfarin with Metronidazole/);
    // Without the warfarin, metronidazole passes the interaction check and is no longer ruled out for it.
    const alone = action(reason({ ...dental, medications: [dental.medications[1]!] }), 'switch:amoxicillin');
    expect(alone.excluded.map((e) => e.name)).not.toContain('Metronidazole');
  });

  it('re-checks candidates against the renal bands: a drug to avoid at this eGFR is not offered', () => {
    const r = reason({
      medications: [med('metformin', 1000, 2)],
      conditions: ['Type 2 diabetes mellitus'],
      renal: { egfr: 24, egfrMethod: 'CKD-EPI 2021, LOINC 98979-8', egfrDaysAgo: 21, creatinineMgDl: null },
      ageBand: '74',
      sex: 'male',
    });
    const a = action(r, 'switch:metformin');
    const offered = a.alternatives.map((x) => x.name);
    expect(offered).toContain('Empagliflozin');
    for (const name of ['Canagliflozin', 'Dapagliflozin']) expect(offered).not.toContain(name);
    expect(a.excluded.find((e) => e.name === 'Canagliflozin')?.reason).toMatch(/^dose, high/);
    // The guideline naming SGLT2 inhibitors ranks them first.
    expect(offered[0]).toBe('Empagliflozin');
  });

  it('an unknown indication gives no alternative and says so', () => {
    // Tizanidine has no use (treats) in the knowledge base and the record names none.
    const r = reason({
      medications: [med('tizanidine', 4, 3)],
      allergies: ['tizanidine'],
      ageBand: '52',
      sex: 'female',
    });
    const a = action(r, 'switch:tizanidine');
    expect(a.alternatives).toEqual([]);
    expect(a.actionable).toBe(false);
    expect(a.noAlternativeReason).toMatch(/indication for tizanidine is unknown/);
  });

  it('never proposes a drug whose use is marked "not an alternative" (opioids, benzodiazepines)', () => {
    const r = reason({
      medications: [med('warfarin', 5, 1), { ...med('ibuprofen', 400, 3), startedDaysBeforeCase: 2 }],
      conditions: ['Atrial fibrillation', 'Pain'],
      ageBand: '60',
      sex: 'male',
    });
    const a = action(r, 'switch:ibuprofen');
    expect(a.alternatives[0]?.name).toBe('Paracetamol');
    const considered = [...a.alternatives.map((x) => x.name), ...a.excluded.map((x) => x.name)];
    for (const opioid of ['Oxycodone', 'Morphine', 'Tramadol', 'Codeine']) expect(considered).not.toContain(opioid);
    // A class-level rule (anticoagulants with NSAIDs) rules the other NSAIDs out for the same reason, unchecked one by one.
    const nsaids = a.excluded.filter((e) => /\(the rule is for NSAIDs\)$/.test(e.reason));
    expect(nsaids.length).toBeGreaterThan(0);
    expect(a.excluded.some((e) => /^interaction, high: warfarin with /.test(e.reason))).toBe(true);
    // The pair's other side (replace warfarin while ibuprofen stays) has no checked option and adds nothing.
    expect(r.actions.map((x) => x.id)).not.toContain('switch:warfarin');
  });
  it('keeps to the route: an intravenous drug is not replaced by a drug held only as oral', () => {
    const r = reason({
      medications: [{ ...med('ceftriaxone', 1000, 1), route: 'intravenous' }],
      allergies: ['cefuroxime'],
      conditions: ['Pneumonia'],
      ageBand: '70',
      sex: 'female',
    });
    const a = action(r, 'switch:ceftriaxone');
    for (const alt of a.alternatives) expect(alt.dose ?? '', alt.name).not.toMatch(/\(oral/);
    expect(a.excluded.some((e) => /^route: held only as oral, not iv$/.test(e.reason))).toBe(true);
  });

  it('a use marked "not an alternative" is per condition: no fluoroquinolone is offered for a UTI', () => {
    const r = reason({
      medications: [med('tizanidine', 4, 3), { ...med('ciprofloxacin', 500, 2), startedDaysBeforeCase: 1 }],
      conditions: ['Urinary tract infection'],
      ageBand: '52',
      sex: 'female',
    });
    const a = action(r, 'switch:ciprofloxacin');
    expect(a.alternatives.length).toBeGreaterThan(0);
    for (const fq of ['Levofloxacin', 'Moxifloxacin', 'Ofloxacin', 'Norfloxacin'])
      expect(a.alternatives.map((x) => x.name)).not.toContain(fq);
  });
});

describe('dose adjustments', () => {
  const renal = {
    medications: [med('gabapentin', 600, 3)],
    conditions: ['Neuropathic pain'],
    ageBand: '74',
    sex: 'female',
  };

  it('gives the band maximum, a signable order keeping the strength, and the renal value, date and formula', () => {
    const r = reason({
      ...renal,
      renal: { egfr: 24, egfrMethod: 'CKD-EPI 2021, LOINC 98979-8', egfrDaysAgo: 21, creatinineMgDl: null },
    });
    const a = action(r, 'dose:gabapentin');
    expect(a.kind).toBe('dose_adjustment');
    expect(a.order).toBe('gabapentin 600 mg orally once daily (600 mg per day)');
    expect(a.dose).toEqual({ strength: 600, unit: 'mg', timesPerDay: 1, max: 700, per: 'day', renal: true });
    expect(a.text).toMatch(/at most 700 mg per day at CrCl 15–29/);
    expect(a.text).toMatch(
      /reported eGFR 24 mL\/min\/1.73 m² \(CKD-EPI 2021, LOINC 98979-8; 21 days before the case\)/,
    );
    expect(a.actionable).toBe(true);
  });

  it('reads a CrCl band on Cockcroft–Gault when weight and creatinine are recorded', () => {
    const r = reason({ ...renal, weightKg: 60, renal: { egfr: null, creatinineMgDl: 2.0, creatinineDaysAgo: 3 } });
    // (140 − 74) × 60 / (72 × 2.0) × 0.85 = 23 mL/min.
    expect(action(r, 'dose:gabapentin').text).toMatch(
      /CrCl 23 mL\/min by Cockcroft–Gault \(creatinine 2 mg\/dL, 3 days before the case; 60 kg\)/,
    );
  });

  it('proposes nothing for a dose within its band', () => {
    const r = reason({ ...renal, medications: [med('gabapentin', 300, 2)], renal: { egfr: 24, creatinineMgDl: null } });
    expect(r.actions).toEqual([]);
  });
});

describe('duplicates', () => {
  it('the same ingredient under two names: stop one, keep the other at its checked dose', () => {
    const r = reason({
      medications: [med('Tylenol', 1000, 4), med('paracetamol', 500, 2)],
      ageBand: '40',
      sex: 'male',
    });
    const totals = r.findings.filter((f) => f.kind === 'dose' && f.medications.length === 2);
    expect(totals[0]?.summary).toMatch(/5,?000 mg of Paracetamol per day in total is above the maximum of 4,?000 mg/);
    const stop = r.actions.find((a) => a.kind === 'stop_duplicate')!;
    expect(stop.order).toMatch(/^(Tylenol 1000 mg orally four times daily|paracetamol 500 mg orally twice daily)$/);
    expect(stop.actionable).toBe(true);
  });
});

describe('monitoring and guidelines', () => {
  it('monitoring comes from monitors facts and interaction management, each cited', () => {
    const r = reason({
      medications: [med('lisinopril', 10, 1), med('spironolactone', 25, 1), med('warfarin', 5, 1)],
      conditions: ['Heart failure with reduced ejection fraction', 'Atrial fibrillation'],
      ageBand: '70',
      sex: 'male',
    });
    const inr = r.monitoring.find((m) => m.test === 'INR')!;
    expect(inr).toMatchObject({ from: 'monitors', medications: ['warfarin'] });
    expect(inr.factIds).toContain('mon:drug:warfarin~lab:inr');
    const pair = r.monitoring.find(
      (m) => m.from === 'interaction_management' && m.test === 'lisinopril + spironolactone',
    );
    expect(pair?.what).toMatch(/potassium/i);
    expect(r.guidelines.map((g) => g.subject)).toEqual(expect.arrayContaining(['Atrial fibrillation']));
  });

  it('states a guideline only where the knowledge base holds one', () => {
    const r = reason({
      medications: [med('amlodipine', 5, 1)],
      conditions: ['Hypothyroidism'],
      ageBand: '50',
      sex: 'male',
    });
    expect(r.guidelines.filter((g) => g.recordedAs === 'Hypothyroidism')).toEqual([]);
  });
});

/** Flesch–Kincaid grade level (syllables by vowel groups): the reading level the English wording aims at. */
function fleschKincaid(text: string): number {
  const sentences = text.split(/[.!?]+/).filter((s) => s.trim()).length;
  const words = text.match(/[A-Za-z']+/g) ?? [];
  const syllables = words.reduce(
    (n, w) =>
      n +
      Math.max(
        1,
        (
          w
            .toLowerCase()
            .replace(/e$/, '')
            .match(/[aeiouy]+/g) ?? []
        ).length,
      ),
    0,
  );
  return 0.39 * (words.length / sentences) + 11.8 * (syllables / words.length) - 15.59;
}

describe('patient communication', () => {
  it('English: what changes, why, what to watch for, at a 6th–8th grade level', () => {
    const texts = patientTexts(reason(dental), 'en');
    expect(texts[0]!.text).toMatch(
      /^Your record shows an allergy that makes amoxicillin unsafe for you\. We suggest Azithromycin or Clindamycin/,
    );
    expect(texts[0]!.text).toMatch(/tell them if you notice anything new/);
    expect(texts.some((t) => /how fast your blood clots \(INR\)/.test(t.text))).toBe(true);
    // Every template, with one-word names so drug names do not dominate the measure.
    const say = PHRASES.en;
    const samples = [
      ...(['allergy', 'interaction', 'kidney', 'condition', 'age', 'dose'] as const).map((reason) =>
        say.switchDrug({ drug: 'Drug', alternatives: ['Other'], reason, other: 'Pill' }),
      ),
      say.reviewDrug({ drug: 'Drug', reason: 'interaction', other: 'Pill' }),
      say.lowerDose({
        drug: 'Drug',
        dose: { strength: 300, unit: 'mg', timesPerDay: 2, max: 700, per: 'day' },
        kidney: true,
      }),
      say.stopDuplicate({ stop: 'Drug', keep: 'Pill' }),
      say.tests({ tests: [say.testName('INR'), say.testName('Potassium (serum/plasma)')] }),
      say.closing(),
    ];
    for (const s of samples) expect(fleschKincaid(s), s).toBeLessThanOrEqual(8);
    expect(texts.flatMap((t) => t.factIds).length).toBeGreaterThan(0);
  });

  it('Simplified Chinese: the same content, with the knowledge base’s Chinese drug names', () => {
    const texts = patientTexts(reason(dental), 'zh-CN');
    expect(texts[0]!.text).toBe(
      '您的记录显示您有过敏史，因此阿莫西林对您不安全。我们建议改用阿奇霉素或克林霉素。它们的作用相同，并且已经对照您正在服用的其他药物做过检查。您的医疗团队会和您一起决定。调整后，如果您发现任何新的不适或感觉不舒服，请告诉他们。',
    );
    expect(texts.some((t) => t.text.includes('凝血功能血液检查（INR）'))).toBe(true);
    for (const t of texts) expect(t.text).not.toMatch(/[A-Za-z]{4,}/);
    const dose = PHRASES['zh-CN'].lowerDose({
      drug: '加巴喷丁',
      dose: { strength: 600, unit: 'mg', timesPerDay: 1, max: 700, per: 'day' },
      kidney: true,
    });
    expect(dose).toContain('每次600 mg，每日1次（每日最多700 mg）');
  });
});
