/**
 * Medications, results and coded problems as FHIR R4 carries them. Every fixture here is
 * SYNTHETIC (written for these tests; no real patient); the drug names follow RxNorm's naming
 * and the codes are those the shared Synthea records use.
 */
import { describe, expect, it } from 'vitest';
import { coreDrugName } from '../../src/clinical/drug-name.js';
import { describeSchedule, scheduleFromText } from '../../src/clinical/medications.js';
import { normaliseCase } from '../../src/clinical/normalise.js';
import { roundValue } from '../../src/clinical/observations.js';
import { checkInput } from '../../src/graphs/clinical-case/executor.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { checkResult } from '../../src/tools/knowledge-base/client.js';
import { CaseValidationError } from '../../src/domain/validation.js';
import { verifyPlan } from '../../src/graphs/clinical-case/verify.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { useStarterKb } from '../helpers/kb.js';

const AT = new Date('2026-11-24T12:00:00Z');
const SUBJECT = { reference: 'urn:uuid:p1' };
const RX = 'http://www.nlm.nih.gov/research/umls/rxnorm';

/** A SYNTHETIC bundle: a patient and the given resources. */
function submission(resources: Array<{ fullUrl?: string; resource: Record<string, unknown> }>) {
  return {
    caseId: 'synthetic-fhir-1',
    question: 'Is the current medication list safe?',
    priority: 'routine',
    bundle: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:p1',
          resource: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1950-05-05' },
        },
        ...resources,
      ],
    },
  };
}
const viewOf = (resources: Parameters<typeof submission>[0]) =>
  normaliseCase(parseSubmission(submission(resources), []), AT).view;
const intakeIssues = (resources: Parameters<typeof submission>[0]) => {
  try {
    parseSubmission(submission(resources), []);
    return [];
  } catch (err) {
    if (err instanceof CaseValidationError) return err.issues;
    throw err;
  }
};
const request = (extra: Record<string, unknown>) => ({
  resource: { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject: SUBJECT, ...extra },
});
const warfarinMedication = {
  resourceType: 'Medication',
  id: 'med-a1',
  code: { coding: [{ system: RX, code: '855332', display: 'Warfarin Sodium 5 MG Oral Tablet' }] },
};

describe('medication identity', () => {
  it('resolves medicationReference to a Medication entry by fullUrl and by Type/id', () => {
    const view = viewOf([
      { fullUrl: 'urn:uuid:m1', resource: warfarinMedication },
      request({ medicationReference: { reference: 'urn:uuid:m1' } }),
      request({ medicationReference: { reference: 'Medication/med-a1' } }),
    ]);
    expect(view.medications.map((m) => m.name)).toEqual([
      'Warfarin Sodium 5 MG Oral Tablet',
      'Warfarin Sodium 5 MG Oral Tablet',
    ]);
    expect(view.medications[0]!.codes).toEqual([{ system: 'rxnorm', code: '855332' }]);
    expect(view.medications[0]!.ingredients).toEqual([{ name: 'Warfarin Sodium', strength: '5 MG' }]);
  });

  it('refuses at intake a medicationReference that resolves to nothing, or to something that is not a Medication', () => {
    const missing = intakeIssues([request({ medicationReference: { reference: 'Medication/nowhere' } })]);
    expect(missing).toEqual([
      expect.objectContaining({
        code: 'unresolved_medication_reference',
        pointer: '/bundle/entry/1/resource/medicationReference/reference',
      }),
    ]);
    const wrongType = intakeIssues([request({ medicationReference: { reference: 'urn:uuid:p1' } })]);
    expect(wrongType[0]).toMatchObject({ code: 'unresolved_medication_reference', message: /a Patient/ });
  });

  it('resolves a contained Medication (#id), with its ingredients and form', () => {
    const view = viewOf([
      request({
        contained: [
          {
            resourceType: 'Medication',
            id: 'c1',
            code: { text: 'Naproxen 500 mg tablets' },
            form: { text: 'Oral tablet' },
            ingredient: [
              {
                itemCodeableConcept: { text: 'Naproxen' },
                strength: { numerator: { value: 500, unit: 'mg' }, denominator: { value: 1, unit: 'tablet' } },
              },
            ],
          },
        ],
        medicationReference: { reference: '#c1' },
      }),
    ]);
    expect(view.medications[0]).toMatchObject({
      name: 'Naproxen 500 mg tablets',
      form: 'Oral tablet',
      ingredients: [{ name: 'Naproxen', strength: '500 mg/tablet' }],
    });
    // A #id that names no contained Medication is refused.
    const issues = intakeIssues([
      request({ contained: [{ ...warfarinMedication, id: 'other' }], medicationReference: { reference: '#c1' } }),
    ]);
    expect(issues[0]?.code).toBe('unresolved_medication_reference');
  });

  it('uses a display-only coding as the name, and never makes a code of it', () => {
    const [med] = viewOf([
      request({ medicationCodeableConcept: { coding: [{ display: 'Warfarin 3 mg tablet' }] } }),
    ]).medications;
    expect(med).toMatchObject({ name: 'Warfarin 3 mg tablet', codes: [] });
    // A code without display or text names the code, not a drug, and keeps it for the knowledge base.
    const [coded] = viewOf([
      request({ medicationCodeableConcept: { coding: [{ system: RX, code: '855332' }] } }),
    ]).medications;
    expect(coded).toMatchObject({
      name: 'unnamed medication (RXNORM 855332)',
      codes: [{ system: 'rxnorm', code: '855332' }],
    });
  });

  it('splits RxNorm clinical and branded drug names into ingredients, strengths and form', () => {
    expect(coreDrugName('Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray')).toBe('nitroglycerin');
    expect(coreDrugName('24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet')).toBe(
      'metformin hydrochloride',
    );
    expect(coreDrugName('Amlodipine 5 MG / Hydrochlorothiazide 12.5 MG / Olmesartan medoxomil 20 MG Oral Tablet')).toBe(
      'amlodipine / hydrochlorothiazide / olmesartan medoxomil',
    );
    const [med] = viewOf([
      request({
        medicationCodeableConcept: {
          coding: [
            {
              system: RX,
              code: '1',
              display: '24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]',
            },
          ],
        },
      }),
    ]).medications;
    expect(med).toMatchObject({
      ingredients: [{ name: 'metoprolol succinate', strength: '100 MG' }],
      form: 'Extended Release Oral Tablet',
    });
  });
});

describe('medication activity and dosage', () => {
  it('keeps current prescriptions only: status, intent, validity period and statement period', () => {
    const named = (text: string, extra: Record<string, unknown>) =>
      request({ medicationCodeableConcept: { text }, ...extra });
    const view = viewOf([
      named('warfarin', {}),
      named('stopped one', { status: 'stopped' }),
      named('error one', { status: 'entered-in-error' }),
      named('proposal one', { intent: 'proposal' }),
      named('expired one', { dispenseRequest: { validityPeriod: { end: '2026-01-01' } } }),
      {
        resource: {
          resourceType: 'MedicationStatement',
          status: 'active',
          medicationCodeableConcept: { text: 'finished course' },
          subject: SUBJECT,
          effectivePeriod: { start: '2026-01-01', end: '2026-02-01' },
        },
      },
    ]);
    expect(view.medications.map((m) => m.name)).toEqual(['warfarin']);
    expect(view.counts.medicationsByStatus).toMatchObject({
      active: 1,
      stopped: 1,
      'entered-in-error': 1,
      'intent proposal': 1,
      expired: 1,
      completed: 1,
    });
  });

  it('reads structured timing, as-needed, dose ranges and unitless tablet counts', () => {
    const [levo, nitro, para] = viewOf([
      request({
        medicationCodeableConcept: { text: 'Levothyroxine Sodium 0.075 MG Oral Tablet' },
        dosageInstruction: [
          {
            timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd', when: ['ACM'] } },
            doseAndRate: [{ doseQuantity: { value: 1 } }],
          },
        ],
      }),
      request({
        medicationCodeableConcept: { text: 'Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray' },
        dosageInstruction: [
          {
            asNeededCodeableConcept: { text: 'chest pain' },
            timing: { repeat: { frequency: 1, period: 5, periodUnit: 'min' } },
            doseAndRate: [{ doseRange: { low: { value: 1, unit: 'spray' }, high: { value: 2, unit: 'spray' } } }],
          },
        ],
      }),
      request({
        medicationCodeableConcept: { text: 'Paracetamol 500 MG Oral Tablet' },
        dosageInstruction: [{ timing: { repeat: { frequency: 1, frequencyMax: 4, period: 1, periodUnit: 'd' } } }],
      }),
    ]).medications;
    expect(levo).toMatchObject({
      dose: { value: 0.075, unit: 'mg' },
      doseText: '1 tablet (0.075 mg)',
      frequency: 'once daily, before breakfast',
      frequencyPerDay: 1,
    });
    expect(nitro).toMatchObject({
      asNeeded: true,
      asNeededFor: 'chest pain',
      doseText: '1–2 spray',
      frequency: 'every 5 minutes',
    });
    expect(para).toMatchObject({ frequency: '1–4 times daily', frequencyPerDay: 4 });
  });

  it('shows frequencies below once a week as such, never as a fraction per day', () => {
    expect(describeSchedule({ frequency: 1, period: 4, periodUnit: 'wk' })).toBe('every 4 weeks');
    expect(describeSchedule({ frequency: 1, period: 1, periodUnit: 'mo' })).toBe('once a month');
    expect(describeSchedule({ frequency: 2, period: 1, periodUnit: 'd' })).toBe('twice daily');
    expect(describeSchedule({ frequency: 1, period: 6, periodUnit: 'h' })).toBe('every 6 hours');
  });

  it('reads text-only sigs, and leaves what a sig does not say unknown', () => {
    const sig = (text: string) =>
      viewOf([request({ medicationCodeableConcept: { text: 'amoxicillin' }, dosageInstruction: [{ text }] })])
        .medications[0]!;
    expect(sig('1 g twice daily')).toMatchObject({
      dose: { value: 1, unit: 'g' },
      frequency: 'twice daily',
      frequencyPerDay: 2,
    });
    expect(sig('500 mg every 8 hours')).toMatchObject({
      dose: { value: 500, unit: 'mg' },
      frequency: 'every 8 hours',
      frequencyPerDay: 3,
    });
    expect(sig('take as directed by the clinic')).toMatchObject({ dose: null, frequency: null, frequencyPerDay: null });
    expect(scheduleFromText('see leaflet')).toBeNull();
  });

  it('refuses a negative or zero frequency at intake and flags an absurd one', () => {
    const dosed = (repeat: Record<string, unknown>) => [
      request({ medicationCodeableConcept: { text: 'warfarin' }, dosageInstruction: [{ timing: { repeat } }] }),
    ];
    expect(intakeIssues(dosed({ frequency: -2, period: 1, periodUnit: 'd' }))[0]).toMatchObject({
      code: 'too_small',
      pointer: '/bundle/entry/1/resource/dosageInstruction/0/timing/repeat/frequency',
    });
    expect(intakeIssues(dosed({ frequency: 1, period: 0, periodUnit: 'd' }))[0]?.code).toBe('too_small');
    const [med] = viewOf(dosed({ frequency: 1000, period: 1, periodUnit: 'h' })).medications;
    expect(med!.frequencyPerDay).toBeNull();
    expect(med!.problems[0]).toMatch(/implausible/);
  });
});

describe('results', () => {
  it('rounds to at most 4 significant figures, or the key test’s decimals', () => {
    expect(roundValue(173.77637872279573, 1)).toBe(173.8);
    expect(roundValue(0.87654, 2)).toBe(0.88);
    expect(roundValue(12.3456789, null)).toBe(12.35);
    expect(roundValue(5.1, 1)).toBe(5.1);
  });

  it('keeps the latest value per test with the previous one, the trend and blood-pressure components', () => {
    const obs = (days: string, systolic: number) => ({
      resource: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '55284-4', display: 'Blood Pressure' }] },
        effectiveDateTime: days,
        component: [
          {
            code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic Blood Pressure' }] },
            valueQuantity: { value: systolic, unit: 'mm[Hg]' },
          },
        ],
      },
    });
    const view = viewOf([obs('2026-10-25T10:00:00Z', 150.4), obs('2026-11-14T10:00:00Z', 131.6)]);
    expect(view.labs).toHaveLength(1);
    expect(view.labs[0]).toMatchObject({ group: 'vital signs', daysBeforeCase: 10, count: 2 });
    expect(view.labs[0]!.components[0]).toMatchObject({ value: 132, previous: 150, trend: 'down' });
  });
});

describe('codes and unknown terms against the starter knowledge base', () => {
  const { snapshot, kb } = useStarterKb();

  it('finds warfarin + naproxen when warfarin comes by medicationReference', () => {
    const view = viewOf([
      { fullUrl: 'urn:uuid:m1', resource: warfarinMedication },
      request({ medicationReference: { reference: 'urn:uuid:m1' } }),
      request({
        medicationCodeableConcept: {
          coding: [{ system: RX, code: '849574', display: 'Naproxen sodium 220 MG Oral Tablet' }],
        },
      }),
    ]);
    const out = checkResult(snapshot(), checkInput(view, 'interaction', [], 'test') as never);
    expect(out.findings.map((f) => f.kind)).toEqual(['interaction']);
    expect(out.findings[0]!.severity).toBe('high');
  });

  it('matches a condition by its SNOMED CT code before its text, and checks only current problems', () => {
    const condition = (code: string, display: string, status: string) => ({
      resource: {
        resourceType: 'Condition',
        subject: SUBJECT,
        clinicalStatus: { coding: [{ code: status }] },
        code: { coding: [{ system: 'http://snomed.info/sct', code, display }] },
      },
    });
    const view = viewOf([
      request({ medicationCodeableConcept: { text: 'ibuprofen 400 mg' } }),
      // SYNTHETIC text that names no condition: only the code can match it.
      condition('88805009', 'Cardiac problem recorded by code', 'active'),
      condition('38341003', 'Hypertension', 'resolved'),
    ]);
    expect(view.problems).toHaveLength(1);
    expect(view.resolvedProblems.map((p) => p.text)).toEqual(['Hypertension']);
    const out = checkResult(snapshot(), checkInput(view, 'contraindication', [], 'test') as never);
    expect(out.findings.some((f) => /Heart failure/.test(f.summary))).toBe(true);
    // Without the code the same text is not a known condition.
    view.problems[0]!.codes = [];
    const uncoded = checkResult(snapshot(), checkInput(view, 'contraindication', [], 'test') as never);
    expect(uncoded.findings).toEqual([]);
  });

  it('reports an unknown term once, with the nearest knowledge-base names', async () => {
    const view = viewOf([request({ medicationCodeableConcept: { text: 'Simvastattin 10 MG' } })]);
    const { findings } = await verifyPlan(
      {
        plan: {
          revision: 1,
          mode: 'knowledge-driven',
          label: 'test',
          provenance: null,
          language: 'en',
          sections: {
            assessment: [],
            recommendations: [],
            medicationChanges: [],
            monitoring: [],
            patientCommunication: [],
          },
          unavailable: [],
        },
        view,
        results: {},
        injections: [],
        reviewerComments: [],
      },
      { knowledgeBase: new LocalKnowledgeBaseClient(kb().store), literature: null, imaging: null },
    );
    const unknown = findings.filter((f) => f.code === 'unknown_term');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.message).toMatch(/“simvastattin”.*closest knowledge-base names: Simvastatin/);
  });

  it('reports the same hidden characters once, naming where they are, and different ones apart', async () => {
    const view = viewOf([]);
    const hit = (pointer: string, excerpt: string) => ({ pointer, rule: 'hidden-characters', excerpt });
    const { findings } = await verifyPlan(
      {
        plan: {
          revision: 1,
          mode: 'knowledge-driven',
          label: 'test',
          provenance: null,
          language: 'en',
          sections: {
            assessment: [],
            recommendations: [],
            medicationChanges: [],
            monitoring: [],
            patientCommunication: [],
          },
          unavailable: [],
        },
        view,
        results: {},
        injections: [
          ...Array.from({ length: 7 }, (_, i) => hit(`/bundle/entry/${i}/resource/code/text`, 'U+200B')),
          hit('/question', 'U+202E'),
        ],
        reviewerComments: [],
      },
      { knowledgeBase: new LocalKnowledgeBaseClient(kb().store), literature: null, imaging: null },
    );
    const hidden = findings.filter((f) => f.code === 'hidden_characters');
    expect(hidden).toHaveLength(2);
    expect(hidden[0]).toMatchObject({ location: '/bundle/entry/0/resource/code/text' });
    expect(hidden[0]!.message).toMatch(/in 7 places \(\/bundle\/entry\/0\/resource\/code\/text, .*, …\) \(U\+200B\)/);
    expect(hidden[1]).toMatchObject({ location: '/question' });
    expect(hidden[1]!.message).toMatch(/characters here \(U\+202E\)/);
  });
});
