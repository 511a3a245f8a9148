/** Shared by the knowledge-base, care-plan and verification benchmarks. */
import { parseSubmission } from '../src/queues/producer.js';
/** A 20-drug list an older patient with multimorbidity might plausibly have (names as records write them). */
export const TWENTY_DRUGS: Array<[string, number, string, number]> = [
  ['warfarin', 5, 'mg', 1],
  ['Zestril', 20, 'mg', 1],
  ['spironolactone', 25, 'mg', 1],
  ['metformin hydrochloride', 1000, 'mg', 2],
  ['atorvastatin', 40, 'mg', 1],
  ['amlodipine besylate', 10, 'mg', 1],
  ['furosemide', 40, 'mg', 1],
  ['omeprazole', 20, 'mg', 1],
  ['sertraline', 100, 'mg', 1],
  ['gabapentin', 300, 'mg', 3],
  ['levothyroxine', 100, 'mcg', 1],
  ['allopurinol', 300, 'mg', 1],
  ['paracetamol', 1, 'g', 4],
  ['ibuprofen', 400, 'mg', 3],
  ['clopidogrel', 75, 'mg', 1],
  ['tramadol', 50, 'mg', 4],
  ['digoxin', 125, 'mcg', 1],
  ['bisoprolol', 5, 'mg', 1],
  ['tamsulosin', 0.4, 'mg', 1],
  ['donepezil', 10, 'mg', 1],
];

/** A SYNTHETIC case: an older patient with five problems, a penicillin allergy, an eGFR of 38 and the 20 drugs above. */
export function twentyDrugCase() {
  const entry = [
    { resource: { resourceType: 'Patient', id: 'p', gender: 'female', birthDate: '1944-03-01' } },
    ...[
      'Atrial fibrillation',
      'Type 2 diabetes mellitus',
      'Chronic kidney disease stage 3b',
      'Osteoarthritis',
      'Hypertension',
    ].map((text, i) => ({
      resource: {
        resourceType: 'Condition',
        id: `c${i}`,
        clinicalStatus: { text: 'active' },
        code: { text },
        subject: { reference: 'Patient/p' },
      },
    })),
    {
      resource: {
        resourceType: 'AllergyIntolerance',
        id: 'a1',
        category: ['medication'],
        code: { text: 'penicillin' },
        patient: { reference: 'Patient/p' },
      },
    },
    {
      resource: {
        resourceType: 'Observation',
        id: 'o1',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '98979-8' }], text: 'eGFR' },
        valueQuantity: { value: 38, unit: 'mL/min/{1.73_m2}' },
        effectiveDateTime: '2026-11-20T08:00:00Z',
        subject: { reference: 'Patient/p' },
      },
    },
    ...TWENTY_DRUGS.map(([name, value, unit, freq], i) => ({
      resource: {
        resourceType: 'MedicationStatement',
        id: `m${i}`,
        status: 'active',
        medicationCodeableConcept: { text: name },
        subject: { reference: 'Patient/p' },
        dosage: [
          {
            route: { text: 'oral' },
            doseAndRate: [{ doseQuantity: { value, unit } }],
            timing: { repeat: { frequency: freq, period: 1, periodUnit: 'd' } },
          },
        ],
      },
    })),
  ];
  return parseSubmission(
    {
      caseId: 'bench-care',
      question: 'SYNTHETIC benchmark case: review the medicines.',
      bundle: { resourceType: 'Bundle', type: 'collection', entry },
    },
    [],
  );
}
