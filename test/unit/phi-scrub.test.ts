/**
 * PHI minimisation of free text (issue 20): birth dates written in words or numerically, parts
 * of hyphenated names, whole-word name matching, and drug strengths that are not dates.
 */
import { describe, expect, it } from 'vitest';
import { identifyingStrings, normaliseCase, scrubText } from '../../src/clinical/normalise.js';
import { parseSubmission } from '../../src/queues/producer.js';

const AT = new Date('2026-11-24T12:00:00Z');

const submission = (question: string, notes: string[] = []) =>
  parseSubmission(
    {
      caseId: 'phi-1',
      question,
      priority: 'routine',
      notes,
      bundle: {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          {
            fullUrl: 'urn:uuid:5f1c0a2e-1111-4222-8333-944455556666',
            resource: {
              resourceType: 'Patient',
              id: 'pat-77',
              name: [{ text: 'Mrs Mary-Ann Smith-Jones', family: 'Smith-Jones', given: ['Mary-Ann', 'Lee'] }],
              identifier: [{ value: 'AB123456' }],
              telecom: [{ system: 'phone', value: '07700 900123' }],
              birthDate: '1952-06-30',
            },
          },
          {
            resource: {
              resourceType: 'MedicationStatement',
              id: 'm1',
              status: 'active',
              medicationCodeableConcept: { text: 'etonogestrel 0.120/0.015 MG vaginal ring' },
              subject: { reference: 'Patient/pat-77' },
            },
          },
        ],
      },
    },
    [],
  );

const identifying = identifyingStrings(submission('Is it safe?'));
const scrub = (text: string) => scrubText(text, identifying);

describe('identifyingStrings', () => {
  it('adds the parts of hyphenated names and the name with spaces, but not titles or short parts', () => {
    expect(identifying.names).toEqual([
      'Mrs Mary-Ann Smith-Jones',
      'Mrs Mary Ann Smith Jones',
      'MrsMaryAnnSmithJones',
      'Smith-Jones',
      'Smith Jones',
      'SmithJones',
      'Mary-Ann',
      'Mary Ann',
      'MaryAnn',
      'Smith',
      'Jones',
      'Mary',
      'Ann',
      'Lee',
    ]);
    expect(identifying.strings).toEqual([
      'urn:uuid:5f1c0a2e-1111-4222-8333-944455556666',
      '07700 900123',
      '1952-06-30',
      'AB123456',
      'pat-77',
    ]);
    expect(identifying.birthDate).toBe('1952-06-30');
  });

  it('keeps an apostrophe name whole, spaced, joined and in parts of at least 3 characters', () => {
    const s = submission('Is it safe?');
    (s.bundle.entry[0]!.resource as { name?: Array<{ family?: string }> }).name = [{ family: "O'Brien" }];
    expect(identifyingStrings(s).names).toEqual(["O'Brien", 'O Brien', 'OBrien', 'Brien']);
  });
});

describe('names given only as text, two-letter names, ages over 89', () => {
  const only = (name: Record<string, unknown>) => {
    const s = submission('Is it safe?');
    (s.bundle.entry[0]!.resource as { name?: unknown[] }).name = [name];
    return identifyingStrings(s);
  };

  it('splits a name given only as name.text into its words, two-letter ones included', () => {
    const ids = only({ text: 'Li Wu Zhang' });
    expect(ids.names).toEqual(expect.arrayContaining(['Li Wu Zhang', 'Zhang', 'Li', 'Wu']));
    const out = scrubText('Mr Wu and Li Zhang came; Zhang said Wu is tired.', ids);
    expect(out).not.toMatch(/\bWu\b|\bLi\b|Zhang/);
  });

  it('matches a two-letter name only as written, so ordinary words and abbreviations stay', () => {
    const ids = only({ text: 'Wu Li' });
    expect(scrubText('wu-style breathing; LI and li; Wu came', ids)).toBe(
      'wu-style breathing; LI and li; [REDACTED] came',
    );
  });

  it('puts every age over 89 in one category (HIPAA Safe Harbor), however it is written', () => {
    const ids = only({ family: 'Nobody' });
    expect(
      scrubText('a 93-year-old man, aged 95, age: 101, 91 years, 90 yo; but 89-year-old and 95 mg stay', ids),
    ).toBe(
      'a [AGE OVER 89]-year-old man, aged [AGE OVER 89], age: [AGE OVER 89], [AGE OVER 89] years, [AGE OVER 89] yo; but 89-year-old and 95 mg stay',
    );
  });
});

describe('the adversarial leaks', () => {
  it('redacts the birth date written in words in the question', () => {
    const { view } = normaliseCase(submission('Mrs Jones, born 30 June 1952: is the ring still safe?'), AT);
    expect(view.question).toBe('Mrs [REDACTED], born [REDACTED]: is the ring still safe?');
    expect(view.patient.age).toBe('74');
  });

  it('redacts a fragment of the hyphenated family name', () => {
    const { view } = normaliseCase(
      submission('Is it safe?', ['Mrs Jones (née Smith) seen with Mary. Mrs Smith Jones; mrs smith–jones; MARY ANN.']),
      AT,
    );
    expect(view.notes[0]!.text).toBe(
      'Mrs [REDACTED] (née [REDACTED]) seen with [REDACTED]. Mrs [REDACTED]; mrs [REDACTED]; [REDACTED].',
    );
  });

  it('keeps the drug strength of the vaginal ring', () => {
    const { view } = normaliseCase(submission('Is it safe?'), AT);
    expect(view.medications[0]!.name).toBe('etonogestrel 0.120/0.015 MG vaginal ring');
  });
});

describe('names are matched as whole words, identifiers anywhere', () => {
  it.each([
    ['Lee joined the fleet in Leeds', '[REDACTED] joined the fleet in Leeds'],
    ['lee, LEE and Lee.', '[REDACTED], [REDACTED] and [REDACTED].'],
    ['Annual review; Ann attended', 'Annual review; [REDACTED] attended'],
    ['Smithson and Jonesy are not her', 'Smithson and Jonesy are not her'],
    ["Jones's daughter, Jones' son", "[REDACTED]'s daughter, [REDACTED]' son"],
    ['O’Brien', 'O’Brien'],
    ['MRN AB123456; refAB123456x', 'MRN [REDACTED]; ref[REDACTED]x'],
    ['see Patient/pat-77 and urn:uuid:5f1c0a2e-1111-4222-8333-944455556666', 'see Patient/[REDACTED] and [REDACTED]'],
    ['call 07700 900123', 'call [REDACTED]'],
  ])('%j → %j', (text, expected) => {
    expect(scrub(text)).toBe(expected);
  });

  it('uses Unicode word boundaries: a name does not match inside a word with accented letters', () => {
    const s = submission('Is it safe?');
    (s.bundle.entry[0]!.resource as { name?: Array<{ given?: string[] }> }).name = [{ given: ['Ana', 'Zoë'] }];
    const ids = identifyingStrings(s);
    expect(scrubText('Anaïs and Ana; ZOË and Zoëlle', ids)).toBe('Anaïs and [REDACTED]; [REDACTED] and Zoëlle');
  });
});

describe('the birth date in its other forms', () => {
  it.each([
    ['born 30 June 1952', 'born [REDACTED]'],
    ['born 30th of June, 1952', 'born [REDACTED]'],
    ['born June 30, 1952', 'born [REDACTED]'],
    ['born Jun 30 1952', 'born [REDACTED]'],
    ['born 30-Jun-1952', 'born [REDACTED]'],
    ['born 30 JUN 1952', 'born [REDACTED]'],
    ["born 30 Jun '52", 'born [REDACTED]'],
    ['born Monday, 30 June 1952', 'born [REDACTED]'],
    ['birthday 30 June', 'birthday [REDACTED]'],
    ['birthday on the 30th of June', 'birthday on [REDACTED]'],
    ['birthday June 30th.', 'birthday [REDACTED].'],
    ['DOB 30/06/1952', 'DOB [REDACTED]'],
    ['DOB 06/30/1952', 'DOB [REDACTED]'],
    ['DOB 30.06.1952', 'DOB [REDACTED]'],
    ['DOB 1952/06/30', 'DOB [REDACTED]'],
    ['DOB 30/6/52', 'DOB [REDACTED]'],
    ['DOB 30-06-1952', 'DOB [REDACTED]'],
    ['DOB 1952-06-30', 'DOB [REDACTED]'],
    // The same day and month in another year is another date.
    ['seen 30 June 2019', 'seen [DATE]'],
    ['seen 30/06/2019', 'seen [DATE]'],
    // Years alone, and months with a year, are kept (Safe Harbor keeps years).
    ['diagnosed in 1952; June 1952', 'diagnosed in 1952; June 1952'],
    // Other days and months without a year are kept.
    ['review on 1 July', 'review on 1 July'],
  ])('%j → %j', (text, expected) => {
    expect(scrub(text)).toBe(expected);
  });
});

describe('dates written with a month name, without a known birth date', () => {
  it.each([
    ['30 June 1952', '[DATE]'],
    ['30th of June, 1952', '[DATE]'],
    ['June 30, 1952', '[DATE]'],
    ['Jun 30 1952', '[DATE]'],
    ['30-Jun-1952', '[DATE]'],
    ['30-JUN-52', '[DATE]'],
    ['30 JUN 1952', '[DATE]'],
    ['Sept 4th 2001 and 4 Sept 2001', '[DATE] and [DATE]'],
    ['Wednesday 3 March 2021, Tue. 5 May 2015', '[DATE], [DATE]'],
    ['on the 12th of December 2020.', 'on [DATE].'],
    ["admitted 2 Feb '19", 'admitted [DATE]'],
    // Kept: day and month without a year, month and year, a year, and words that look like months.
    ['review on 30 June', 'review on 30 June'],
    ['started in March 2019', 'started in March 2019'],
    ['in 1952', 'in 1952'],
    ['2 may help; march 5 miles; decreased to 3 mg', '2 may help; march 5 miles; decreased to 3 mg'],
    ['1 may 2000 units', '1 may 2000 units'],
  ])('%j → %j', (text, expected) => {
    expect(scrubText(text, [])).toBe(expected);
  });
});

describe('numeric dates and drug strengths', () => {
  it.each([
    ['03/07/2019', '[DATE]'],
    ['3.7.2019', '[DATE]'],
    ['30/06/1952', '[DATE]'],
    ['12/25/2019', '[DATE]'],
    ['2019/07/03', '[DATE]'],
    ['30-06-1952', '[DATE]'],
    ['seen 03/07/19, again 3.7.2019.', 'seen [DATE], again [DATE].'],
  ])('%j is a date', (text, expected) => {
    expect(scrubText(text, [])).toBe(expected);
  });

  it.each([
    '0.120/0.015 MG',
    '0.12/0.015 MG',
    'NuvaRing 0.12/0.015 MG per 24HR 21 Day Vaginal Ring',
    '5/325 MG',
    '1.5/2.5 mg',
    '12.5/25 mg',
    '5/1.25 mg',
    '5/1/25 mg',
    '1.5/2.5/10 mg',
    'BP 120/80, potassium 5.6 mmol/L, HbA1c 7.2%',
  ])('%j is kept', (text) => {
    expect(scrubText(text, [])).toBe(text);
  });
});

describe('other patterns', () => {
  it.each([
    ['idiopathic pulmonary fibrosis, identified, ID card', 'idiopathic pulmonary fibrosis, identified, ID card'],
    ['MRN: AB99 and ID12345', '[ID] and [ID]'],
    ['1.2.840.10008.5.1.4.1.1.2 study', '[UID] study'],
    ['write to a.patient.03.07.2019@example.org', 'write to [EMAIL]'],
    ['call +44 1632 960 999', 'call [PHONE]'],
  ])('%j → %j', (text, expected) => {
    expect(scrubText(text, [])).toBe(expected);
  });
});
