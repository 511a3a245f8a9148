/**
 * Every user-facing pattern on adversarial input: runs of the characters each pattern repeats
 * (hyphens, letters, digits, spaces, brackets, "ID-" and "1." chains), 200,000 characters each.
 * Before the patterns were made linear these took minutes (20,000 characters: 0.3–0.8 s each,
 * growing with the square of the length), so a quadratic pattern fails here by timing out; the
 * times themselves are measured in `npm run bench:regex`, not asserted. Each case also checks
 * the answer, so a pattern made linear by no longer matching fails too.
 */
import { describe, expect, it } from 'vitest';
import { SCRUB_PATTERNS, scrubText } from '../../src/clinical/normalise.js';
import { CaseSubmission } from '../../src/domain/case.js';
import { CASE_LIMITS } from '../../src/domain/fhir.js';
import { stripForms } from '../../src/knowledge/text.js';
import { ADVERSARIAL_TEXTS } from '../helpers/adversarial-text.js';

const N = 200_000;
const nobody = { names: ['Ana Wu'], strings: [], birthDate: '1950-03-04' };

describe('user-facing patterns stay linear on adversarial input', () => {
  it.each(Object.entries(ADVERSARIAL_TEXTS(N)))('the PHI scrubber on %s', (_name, text) => {
    const out = scrubText(text, nobody);
    expect(out.length).toBeGreaterThan(0);
    for (const [re] of SCRUB_PATTERNS) expect(typeof text.replace(re, 'X')).toBe('string');
  });

  it('still redacts what it is for, next to adversarial runs', () => {
    const text = `${'-'.repeat(N)} mail ana@example.org, MRN: AB123456, tel 555-123-4567, on 3 March 2021, uid 1.2.840.10008.1 ${'1.'.repeat(1000)}a`;
    const out = scrubText(text, nobody);
    expect(out).toContain('[EMAIL]');
    expect(out).toContain('[ID]');
    expect(out).toContain('[PHONE]');
    expect(out).toContain('[DATE]');
    expect(out).toContain('[UID]');
    expect(out).not.toMatch(/ana@example|AB123456|555-123|March 2021/);
  });

  it('the knowledge-base term cleaner on brackets', () => {
    expect(stripForms('('.repeat(N)).length).toBeLessThanOrEqual(N);
    expect(stripForms('['.repeat(N)).length).toBeLessThanOrEqual(N);
    expect(stripForms(`${'(a'.repeat(N / 2)}`)).toMatch(/a/);
    expect(stripForms('metformin (glucophage) 500 mg tablet')).toBe('metformin');
  });
});

describe('case limits', () => {
  it('refuses a case with more medications than the limit, naming it', () => {
    const meds = Array.from({ length: CASE_LIMITS.medications + 1 }, (_, i) => ({
      resource: {
        resourceType: 'MedicationRequest',
        id: `m${i}`,
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p' },
        medicationCodeableConcept: { text: `drug ${i}` },
      },
    }));
    const parsed = CaseSubmission.safeParse({
      caseId: 'limits-1',
      question: 'Too many medicines?',
      bundle: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [{ resource: { resourceType: 'Patient', id: 'p' } }, ...meds],
      },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.message)).toContain(
      `a case holds at most ${CASE_LIMITS.medications} medications (MedicationRequest or MedicationStatement); this one has ${CASE_LIMITS.medications + 1}`,
    );
  });
});
