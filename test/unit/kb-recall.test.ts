/**
 * Recall table: well-known interacting pairs and pairs known not to interact, each with the
 * reference that says so, run through the interaction checker over the starter knowledge base.
 * The report (caught / missed / wrongly flagged) is printed and written to .data/kb-recall.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/knowledge/checks.js';
import { SafetyCheckInput } from '../../src/domain/knowledge.js';
import { useStarterKb } from '../helpers/kb.js';

type Pair = [a: string, b: string, source: string];

const BNF = 'BNF Appendix 1 (interactions)';
const INTERACTING: Pair[] = [
  ['warfarin', 'ibuprofen', BNF],
  ['warfarin', 'naproxen', BNF],
  ['warfarin', 'aspirin', BNF],
  ['apixaban', 'naproxen', 'Eliquis FDA label, Drug Interactions (NSAIDs)'],
  ['rivaroxaban', 'diclofenac', 'Xarelto FDA label, Drug Interactions (NSAIDs)'],
  ['warfarin', 'amiodarone', 'Coumadin FDA label, Drug Interactions'],
  ['warfarin', 'fluconazole', BNF],
  ['warfarin', 'metronidazole', BNF],
  ['warfarin', 'co-trimoxazole', BNF],
  ['warfarin', 'rifampicin', BNF],
  ['methotrexate', 'trimethoprim', BNF],
  ['methotrexate', 'co-trimoxazole', BNF],
  ['spironolactone', 'lisinopril', BNF],
  ['spironolactone', 'losartan', BNF],
  ['amiloride', 'ramipril', BNF],
  ['potassium chloride', 'spironolactone', BNF],
  ['lisinopril', 'losartan', 'ONTARGET, N Engl J Med 2008;358:1547-59'],
  ['ramipril', 'Entresto', 'Entresto FDA label, Contraindications'],
  ['lithium', 'hydrochlorothiazide', BNF],
  ['lithium', 'ibuprofen', BNF],
  ['lithium', 'lisinopril', BNF],
  ['digoxin', 'amiodarone', 'Cordarone FDA label, Drug Interactions'],
  ['digoxin', 'verapamil', BNF],
  ['simvastatin', 'clarithromycin', 'FDA Drug Safety Communication, 8 June 2011 (simvastatin)'],
  ['simvastatin', 'itraconazole', 'FDA Drug Safety Communication, 8 June 2011 (simvastatin)'],
  ['simvastatin', 'erythromycin', 'FDA Drug Safety Communication, 8 June 2011 (simvastatin)'],
  ['simvastatin', 'gemfibrozil', 'FDA Drug Safety Communication, 8 June 2011 (simvastatin)'],
  ['clopidogrel', 'omeprazole', 'Plavix FDA label, Drug Interactions (CYP2C19 inhibitors)'],
  ['citalopram', 'clarithromycin', 'CredibleMeds QTdrugs list: both known risk of TdP'],
  ['haloperidol', 'ondansetron', 'CredibleMeds QTdrugs list: both known risk of TdP'],
  ['amiodarone', 'levofloxacin', 'CredibleMeds QTdrugs list: both known risk of TdP'],
  ['azithromycin', 'escitalopram', 'CredibleMeds QTdrugs list: both known risk of TdP'],
  ['phenelzine', 'sertraline', 'Boyer & Shannon, N Engl J Med 2005;352:1112-20'],
  ['linezolid', 'sertraline', 'FDA Drug Safety Communication, 26 July 2011 (linezolid)'],
  ['tramadol', 'fluoxetine', 'Ultram FDA label, Drug Interactions (serotonergic drugs, CYP2D6)'],
  ['sumatriptan', 'sertraline', 'Imitrex FDA label, Warnings (serotonin syndrome)'],
  ['rasagiline', 'tramadol', 'Azilect FDA label, Contraindications'],
  ['sildenafil', 'isosorbide mononitrate', 'Viagra FDA label, Contraindications'],
  ['tizanidine', 'ciprofloxacin', 'Zanaflex FDA label, Contraindications'],
  ['theophylline', 'ciprofloxacin', 'Cipro FDA label, Drug Interactions'],
  ['azathioprine', 'allopurinol', 'Imuran FDA label, Drug Interactions'],
  ['mercaptopurine', 'febuxostat', 'Uloric FDA label, Contraindications'],
  ['oxycodone', 'diazepam', 'FDA Drug Safety Communication, 31 August 2016 (opioids with benzodiazepines)'],
  ['morphine', 'pregabalin', 'FDA Drug Safety Communication, 19 December 2019 (gabapentinoids)'],
  ['valproate', 'lamotrigine', 'Lamictal FDA label, Dosage and Administration (valproate)'],
  ['valproate', 'meropenem', 'Depakote FDA label, Drug Interactions (carbapenems)'],
  ['verapamil', 'metoprolol', BNF],
  ['tamoxifen', 'paroxetine', BNF],
  ['colchicine', 'clarithromycin', 'Colcrys FDA label, Drug Interactions'],
  ['domperidone', 'ketoconazole', 'EMA/CMDh 2014 domperidone restrictions'],
  ['metoclopramide', 'levodopa', BNF],
  ['ciprofloxacin', 'calcium carbonate', 'Cipro FDA label, Drug Interactions (multivalent cations)'],
  ['levothyroxine', 'ferrous sulfate', 'Synthroid FDA label, Drug Interactions'],
  ['carbamazepine', 'clarithromycin', BNF],
  ['ethinylestradiol', 'rifampicin', 'FSRH Clinical Guideline: Drug Interactions with Hormonal Contraception (2022)'],
  ['dabigatran', 'dronedarone', 'Pradaxa EU SmPC, section 4.3'],
];

const LABEL = 'no interaction with the other drug in either FDA label (Drug Interactions)';
const NOT_INTERACTING: Pair[] = [
  ['paracetamol', 'amoxicillin', LABEL],
  ['metformin', 'atorvastatin', LABEL],
  ['levothyroxine', 'atorvastatin', LABEL],
  ['amlodipine', 'atorvastatin', 'Caduet FDA label (fixed-dose combination)'],
  ['omeprazole', 'amoxicillin', 'co-prescribed in H. pylori regimens (Prilosec FDA label)'],
  ['metformin', 'sitagliptin', 'Janumet FDA label (fixed-dose combination)'],
  ['losartan', 'hydrochlorothiazide', 'Hyzaar FDA label (fixed-dose combination)'],
  ['lisinopril', 'hydrochlorothiazide', 'Zestoretic FDA label (fixed-dose combination)'],
  ['aspirin', 'atorvastatin', LABEL],
  ['clopidogrel', 'atorvastatin', LABEL],
  ['metoprolol', 'atorvastatin', LABEL],
  ['levothyroxine', 'metformin', LABEL],
  ['paracetamol', 'omeprazole', LABEL],
  ['sertraline', 'paracetamol', LABEL],
  ['montelukast', 'salbutamol', LABEL],
  ['cetirizine', 'paracetamol', LABEL],
  ['pantoprazole', 'clopidogrel', 'Plavix FDA label: pantoprazole is the alternative to omeprazole'],
  ['rosuvastatin', 'ezetimibe', 'Roszet FDA label (fixed-dose combination)'],
  ['empagliflozin', 'metformin', 'Synjardy FDA label (fixed-dose combination)'],
  ['furosemide', 'paracetamol', LABEL],
  ['allopurinol', 'colchicine', 'ACR 2020 gout guideline: colchicine prophylaxis when starting allopurinol'],
  ['bisoprolol', 'atorvastatin', LABEL],
  ['apixaban', 'atorvastatin', LABEL],
  ['levothyroxine', 'amlodipine', LABEL],
  ['finasteride', 'tamsulosin', LABEL],
  ['donepezil', 'memantine', 'Namzaric FDA label (fixed-dose combination)'],
  ['lamotrigine', 'levetiracetam', LABEL],
  ['ramipril', 'amlodipine', LABEL],
  ['valsartan', 'amlodipine', 'Exforge FDA label (fixed-dose combination)'],
  ['metformin', 'gliclazide', BNF],
  ['insulin glargine', 'metformin', LABEL],
  ['prednisolone', 'omeprazole', LABEL],
  ['doxycycline', 'paracetamol', LABEL],
  ['nitrofurantoin', 'paracetamol', LABEL],
  ['oseltamivir', 'paracetamol', LABEL],
  ['ezetimibe', 'atorvastatin', 'Liptruzet FDA label (fixed-dose combination)'],
  ['enoxaparin', 'paracetamol', LABEL],
  ['pravastatin', 'clopidogrel', LABEL],
  ['candesartan', 'bisoprolol', LABEL],
  ['salbutamol', 'tiotropium', LABEL],
  ['sitagliptin', 'atorvastatin', LABEL],
  ['amoxicillin', 'clavulanic acid', 'Augmentin FDA label (fixed-dose combination)'],
];

const starter = useStarterKb();

const flagged = (a: string, b: string) =>
  runCheck(
    starter.snapshot(),
    SafetyCheckInput.parse({
      kind: 'interaction',
      medications: [a, b].map((name) => ({ name, dose: null, route: null, frequencyPerDay: null })),
    }),
  );

describe('interaction recall table', () => {
  it('has at least 40 pairs of each kind, each with a source, all drugs known to the knowledge base', () => {
    expect(INTERACTING.length).toBeGreaterThanOrEqual(40);
    expect(NOT_INTERACTING.length).toBeGreaterThanOrEqual(40);
    for (const [a, b, source] of [...INTERACTING, ...NOT_INTERACTING]) {
      expect(source.length, `${a}+${b}`).toBeGreaterThan(5);
      expect(flagged(a, b).unknownTerms, `${a}+${b}`).toEqual([]);
    }
  });

  it('reports how many the checker catches and how many it wrongly flags', () => {
    const rows = [
      ...INTERACTING.map(([a, b, source]) => ({ a, b, source, expected: true, found: flagged(a, b).findings })),
      ...NOT_INTERACTING.map(([a, b, source]) => ({ a, b, source, expected: false, found: flagged(a, b).findings })),
    ].map((r) => ({
      pair: `${r.a} + ${r.b}`,
      source: r.source,
      expected: r.expected,
      flagged: r.found.length > 0,
      severity: r.found[0]?.severity ?? null,
      factIds: r.found[0]?.factIds.slice(0, 1) ?? [],
    }));
    const caught = rows.filter((r) => r.expected && r.flagged).length;
    const falseFlags = rows.filter((r) => !r.expected && r.flagged);
    const report = {
      interacting: INTERACTING.length,
      caught,
      missed: rows.filter((r) => r.expected && !r.flagged).map((r) => r.pair),
      nonInteracting: NOT_INTERACTING.length,
      wronglyFlagged: falseFlags.length,
      wronglyFlaggedPairs: falseFlags.map((r) => r.pair),
      recall: caught / INTERACTING.length,
      falseFlagRate: falseFlags.length / NOT_INTERACTING.length,
      rows,
    };
    mkdirSync('.data', { recursive: true });
    writeFileSync('.data/kb-recall.json', JSON.stringify(report, null, 2));
    console.log(
      `[kb-recall] caught ${caught}/${INTERACTING.length}, wrongly flagged ${falseFlags.length}/${NOT_INTERACTING.length}; details in .data/kb-recall.json`,
    );
    expect(report.missed).toEqual([]);
    expect(report.wronglyFlaggedPairs).toEqual([]);
  });
});
