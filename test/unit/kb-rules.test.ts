/**
 * Two rule shapes the starter content uses: the AGS Beers 2023 count rule ("three or more
 * CNS-active drugs") and a dose band with patient criteria (apixaban's dose reduction in AF:
 * at least two of age ≥ 80, weight ≤ 60 kg, creatinine ≥ 1.5 mg/dL, Eliquis US label section 2.2).
 * SYNTHETIC patients.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/knowledge/checks.js';
import { SafetyCheckInput } from '../../src/domain/knowledge.js';
import { useStarterKb } from '../helpers/kb.js';

const starter = useStarterKb();
const med = (name: string, dose: number, perDay: number) => ({
  name,
  dose: { value: dose, unit: 'mg' },
  route: 'oral',
  frequencyPerDay: perDay,
});
const check = (input: Record<string, unknown>) => runCheck(starter.snapshot(), SafetyCheckInput.parse(input));

describe('Beers count rule: three or more CNS-active drugs', () => {
  it('fires once with three, naming all of them, and not with two', () => {
    const three = check({
      kind: 'older_adult',
      medications: [med('zolpidem', 5, 1), med('lorazepam', 1, 2), med('sertraline', 50, 1)],
      ageBand: '78',
    });
    const counts = three.findings.filter((f) => f.medications.length === 3);
    expect(counts).toHaveLength(1);
    expect(counts[0]!.summary).toMatch(
      /^zolpidem, lorazepam, sertraline at age 78: 3 CNS-active drugs .* together: avoid$/,
    );
    expect(counts[0]!.management).toMatch(/^Avoid a total of three or more CNS-active drugs/);
    const two = check({
      kind: 'older_adult',
      medications: [med('zolpidem', 5, 1), med('sertraline', 50, 1)],
      ageBand: '78',
    });
    expect(two.findings.filter((f) => f.medications.length > 1 && /CNS-active/.test(f.summary))).toEqual([]);
    // Under 65 the criteria do not apply.
    const young = check({
      kind: 'older_adult',
      medications: [med('zolpidem', 5, 1), med('lorazepam', 1, 2), med('sertraline', 50, 1)],
      ageBand: '50',
    });
    expect(young.findings).toEqual([]);
  });
});

describe('dose band with patient criteria: apixaban dose reduction', () => {
  const apixaban = [med('apixaban', 5, 2)];
  it('two criteria met: 5 mg twice daily is above the 2.5 mg band, and the finding says which criteria', () => {
    const r = check({
      kind: 'dose',
      medications: apixaban,
      ageBand: '84',
      sex: 'female',
      renal: { egfr: null, creatinineMgDl: 1.6, creatinineDaysAgo: 10 },
    });
    const f = r.findings.find((x) => /above the maximum of 2.5 mg/.test(x.summary));
    expect(f?.explanation).toMatch(/Criteria met: age ≥ 80 \(84\), creatinine ≥ 1.5 mg\/dL \(1.6\)/);
  });

  it('one criterion met and one unknown: not checked, and said so', () => {
    const r = check({
      kind: 'dose',
      medications: apixaban,
      ageBand: '84',
      sex: 'female',
      renal: { egfr: null, creatinineMgDl: 1.0, creatinineDaysAgo: 10 },
    });
    expect(r.findings.filter((x) => /2.5 mg/.test(x.summary))).toEqual([]);
    expect(r.unchecked.map((u) => u.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dose-reduction criteria not assessable \(age ≥ 80 \(84\); unknown: weight ≤ 60 kg\)/),
      ]),
    );
  });

  it('criteria not met: the band does not apply', () => {
    const r = check({
      kind: 'dose',
      medications: apixaban,
      ageBand: '60',
      sex: 'male',
      weightKg: 80,
      renal: { egfr: null, creatinineMgDl: 1.0, creatinineDaysAgo: 10 },
    });
    expect(r.findings).toEqual([]);
    expect(r.unchecked.filter((u) => /criteria/.test(u.reason))).toEqual([]);
  });
});
