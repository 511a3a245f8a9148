/**
 * Coverage of the starter content (kb/starter with its packs) on what issue 18 measured: the
 * ONC high-priority pairs the checker used to miss, the inputs that used to be unknown, the
 * duplicate-therapy and additive-risk groups a pharmacist expects, the older-adult criteria
 * (AGS Beers 2023) and pregnancy flags. The broad measurement is `npm run eval:kb` over
 * eval/kb/pairs.csv; these are the named cases that must never regress.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/knowledge/checks.js';
import { resolveTerm } from '../../src/knowledge/resolve.js';
import { SafetyCheckInput, type SafetyCheckKind } from '../../src/domain/knowledge.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();

const check = (kind: SafetyCheckKind, names: string[], extra: Record<string, unknown> = {}) =>
  runCheck(
    starter.snapshot(),
    SafetyCheckInput.parse({
      kind,
      medications: names.map((name) => ({ name, dose: null, route: null, frequencyPerDay: null })),
      ...extra,
    }),
  );

describe('starter knowledge base coverage', () => {
  it.each([
    ['simvastatin', 'fluconazole'],
    ['simvastatin', 'erythromycin'],
    ['simvastatin', 'diltiazem'],
    ['simvastatin', 'verapamil'],
    ['simvastatin', 'amiodarone'],
    ['lovastatin', 'fluconazole'],
    ['lovastatin', 'erythromycin'],
    ['lovastatin', 'verapamil'],
    ['tizanidine', 'amiodarone'],
    ['tizanidine', 'ciprofloxacin'],
    ['fentanyl', 'selegiline'],
    ['atazanavir', 'omeprazole'],
    ['irinotecan', 'ketoconazole'],
    ['ramelteon', 'fluvoxamine'],
    ['rifampicin', 'ritonavir'],
    ['ergotamine', 'clarithromycin'],
    ['tranylcypromine', 'procarbazine'],
    ['sumatriptan', 'phenelzine'],
    ['methylphenidate', 'isocarboxazid'],
  ])('ONC high-priority pair %s with %s is critical', (a, b) => {
    const out = check('interaction', [a, b]);
    expect(out.unknownTerms).toEqual([]);
    expect(out.findings.map((f) => f.severity)).toContain('critical');
    expect(out.findings[0]!.factIds.some((id) => id.startsWith('ix:'))).toBe(true);
  });

  it.each(['probenecid', 'iodinated contrast', 'oral contraceptive', 'budesonide', 'docusate', 'senna', 'folic acid'])(
    '%s is known',
    (name) => {
      expect(resolveTerm(starter.snapshot(), name, 'medication').entities.length).toBeGreaterThan(0);
    },
  );

  // As the shared Synthea records write them (their own misspelling included).
  it.each(['Epinephrine 0.3 MG/ML Auto-Injector', 'Simvistatin 10 MG Oral Tablet'])('%s is known', (name) => {
    expect(resolveTerm(starter.snapshot(), name, 'medication').entities.length).toBeGreaterThan(0);
  });

  it.each(['the pill', 'contrast', 'iron tablets'])('the lay term “%s” is known', (name) => {
    expect(resolveTerm(starter.snapshot(), name, 'medication').entities.length).toBeGreaterThan(0);
  });

  it.each([
    ['ibuprofen', 'naproxen', /NSAID/],
    ['lisinopril', 'ramipril', /ACE inhibitor/],
    ['lisinopril', 'losartan', /[Rr]enin/],
    ['sertraline', 'citalopram', /serotonin reuptake/],
    ['diazepam', 'lorazepam', /[Bb]enzodiazepine/],
    ['apixaban', 'warfarin', /[Aa]nticoagulant/],
  ])('%s with %s is duplicate therapy', (a, b, cls) => {
    const out = check('duplicate_therapy', [a, b]);
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]!.summary).toMatch(cls);
  });

  it.each([
    ['citalopram', 'amiodarone', 'high'],
    ['sertraline', 'tramadol', 'high'],
    ['oxycodone', 'diazepam', 'high'],
  ])('additive risk: %s with %s is %s', (a, b, severity) => {
    expect(check('interaction', [a, b]).findings[0]?.severity).toBe(severity);
  });

  it('older adults: a first-generation antihistamine is flagged from 65 and not before', () => {
    const old = check('older_adult', ['diphenhydramine'], { ageBand: '80' });
    expect(old.findings).toHaveLength(1);
    expect(old.findings[0]!.summary).toMatch(/avoid/);
    expect(old.findings[0]!.management).toMatch(/quality of evidence/);
    expect(check('older_adult', ['diphenhydramine'], { ageBand: '50' }).findings).toEqual([]);
    expect(check('older_adult', ['diphenhydramine']).unchecked[0]!.reason).toMatch(/age not recorded/);
  });

  it('older adults: an opioid with a benzodiazepine is a drug–drug criterion', () => {
    const out = check('older_adult', ['oxycodone', 'diazepam'], { ageBand: '72' });
    expect(out.findings.some((f) => f.medications.length === 2)).toBe(true);
  });

  it('older adults: the same ingredient under two brands is not a drug–drug criterion (it is duplicate therapy)', () => {
    const out = check('older_adult', ['Atarax', 'Vistaril'], { ageBand: '80' });
    expect(out.findings.map((f) => f.medications)).toEqual([['Atarax'], ['Vistaril']]);
    expect(check('duplicate_therapy', ['Atarax', 'Vistaril']).findings[0]!.severity).toBe('high');
  });

  it('pregnancy: an ACE inhibitor is flagged when the record holds a pregnancy (by SNOMED code)', () => {
    const out = check('contraindication', ['lisinopril'], {
      conditions: [{ text: 'Normal pregnancy', codes: [{ system: 'snomed', code: '72892002' }] }],
    });
    expect(out.findings[0]?.severity).toBe('critical');
  });

  it('breastfeeding: codeine is flagged when the record says the patient is breastfeeding', () => {
    const out = check('contraindication', ['codeine'], { conditions: ['breastfeeding'] });
    expect(out.findings[0]?.severity).toBe('high');
    expect(check('contraindication', ['codeine'], { conditions: ['lactation'] }).findings).toHaveLength(1);
  });
});
