/**
 * Intake validation: each malformed or hostile submission is rejected with the exact JSON
 * Pointer and code that a client needs to fix it.
 */
import { describe, expect, it } from 'vitest';
import { CaseValidationError, type FieldIssue } from '../../src/domain/validation.js';
import { callbackUrlProblem } from '../../src/domain/callback-url.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { loadExampleCases, minimalSubmission } from '../helpers/cases.js';

function issuesOf(input: unknown, allowlist: string[] = []): FieldIssue[] {
  try {
    parseSubmission(input, allowlist);
  } catch (err) {
    if (err instanceof CaseValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected the submission to be rejected');
}

const valid = () =>
  minimalSubmission('case-1') as Record<string, unknown> & {
    bundle: { entry: Array<{ resource: Record<string, unknown> }> };
  };
const withResource = (index: number, patch: Record<string, unknown>) => {
  const s = valid();
  s.bundle.entry[index]!.resource = { ...s.bundle.entry[index]!.resource, ...patch };
  return s;
};

describe('case submission validation', () => {
  it('accepts every synthetic example case', () => {
    for (const example of loadExampleCases()) {
      expect(() => parseSubmission(example.submission, [])).not.toThrow();
    }
  });

  const cases: Array<[string, () => unknown, Array<Pick<FieldIssue, 'pointer' | 'code'>>]> = [
    ['a body that is not an object', () => 'hello', [{ pointer: '', code: 'invalid_type' }]],
    ['a missing case id', () => ({ ...valid(), caseId: undefined }), [{ pointer: '/caseId', code: 'invalid_type' }]],
    [
      'a case id with a colon (Redis key injection)',
      () => ({ ...valid(), caseId: 'a:b' }),
      [{ pointer: '/caseId', code: 'invalid_format' }],
    ],
    [
      'a case id with a path traversal',
      () => ({ ...valid(), caseId: '../../etc/passwd' }),
      [{ pointer: '/caseId', code: 'invalid_format' }],
    ],
    [
      'a case id longer than 128 characters',
      () => ({ ...valid(), caseId: 'a'.repeat(129) }),
      [{ pointer: '/caseId', code: 'invalid_format' }],
    ],
    [
      'a question that is a number',
      () => ({ ...valid(), question: 42 }),
      [{ pointer: '/question', code: 'invalid_type' }],
    ],
    [
      'a whitespace-only question',
      () => ({ ...valid(), question: '   ' }),
      [{ pointer: '/question', code: 'too_small' }],
    ],
    [
      'a huge question',
      () => ({ ...valid(), question: 'x'.repeat(4001) }),
      [{ pointer: '/question', code: 'too_big' }],
    ],
    [
      'an unknown priority',
      () => ({ ...valid(), priority: 'whenever' }),
      [{ pointer: '/priority', code: 'invalid_value' }],
    ],
    [
      'an unknown top-level field (typo)',
      () => ({ ...valid(), callback_url: 'https://example.org' }),
      [{ pointer: '', code: 'unrecognized_keys' }],
    ],
    [
      'a bundle that is not a Bundle',
      () => ({ ...valid(), bundle: { resourceType: 'Patient' } }),
      [
        { pointer: '/bundle/resourceType', code: 'invalid_value' },
        { pointer: '/bundle/type', code: 'invalid_value' },
        { pointer: '/bundle/entry', code: 'invalid_type' },
      ],
    ],
    [
      'an empty bundle',
      () => ({ ...valid(), bundle: { resourceType: 'Bundle', type: 'collection', entry: [] } }),
      [{ pointer: '/bundle/entry', code: 'too_small' }],
    ],
    [
      'a bundle without a Patient',
      () => {
        const s = valid();
        s.bundle.entry.splice(0, 1);
        return s;
      },
      [{ pointer: '/bundle/entry', code: 'patient_count' }],
    ],
    [
      'two Patients',
      () => {
        const s = valid();
        s.bundle.entry.push({ resource: { resourceType: 'Patient', id: 'p2' } });
        return s;
      },
      [{ pointer: '/bundle/entry', code: 'patient_count' }],
    ],
    [
      'an impossible birth date',
      () => withResource(0, { birthDate: '1950-13-45' }),
      [{ pointer: '/bundle/entry/0/resource/birthDate', code: 'invalid_format' }],
    ],
    [
      'a medication without a status',
      () => withResource(1, { status: undefined }),
      [{ pointer: '/bundle/entry/1/resource/status', code: 'invalid_value' }],
    ],
    [
      'a medication for another patient',
      () => withResource(1, { subject: { reference: 'Patient/someone-else' } }),
      [{ pointer: '/bundle/entry/1/resource/subject/reference', code: 'foreign_patient_reference' }],
    ],
    [
      'a dose that is a string',
      () => withResource(1, { dosage: [{ doseAndRate: [{ doseQuantity: { value: '10', unit: 'mg' } }] }] }),
      [{ pointer: '/bundle/entry/1/resource/dosage/0/doseAndRate/0/doseQuantity/value', code: 'invalid_type' }],
    ],
    [
      'an Observation without a code',
      () => {
        const s = valid();
        s.bundle.entry.push({
          resource: { resourceType: 'Observation', status: 'final', subject: { reference: 'Patient/p1' } },
        });
        return s;
      },
      [{ pointer: '/bundle/entry/2/resource/code', code: 'invalid_type' }],
    ],
    [
      'a resourceType that is not a type name (injection)',
      () => {
        const s = valid();
        s.bundle.entry.push({ resource: { resourceType: '<script>alert(1)</script>' } });
        return s;
      },
      [{ pointer: '/bundle/entry/2/resource/resourceType', code: 'invalid_format' }],
    ],
    [
      'an allergy without a reaction manifestation',
      () => {
        const s = valid();
        s.bundle.entry.push({
          resource: {
            resourceType: 'AllergyIntolerance',
            patient: { reference: 'Patient/p1' },
            reaction: [{ manifestation: [] }],
          },
        });
        return s;
      },
      [{ pointer: '/bundle/entry/2/resource/reaction/0/manifestation', code: 'too_small' }],
    ],
    [
      'a DocumentReference whose data is not base64',
      () => {
        const s = valid();
        s.bundle.entry.push({
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            content: [{ attachment: { data: '"; DROP TABLE cases; --' } }],
          },
        });
        return s;
      },
      [{ pointer: '/bundle/entry/2/resource/content/0/attachment/data', code: 'invalid_format' }],
    ],
    [
      'too many bundle entries',
      () => {
        const s = valid();
        for (let i = 0; i < 2000; i++) s.bundle.entry.push({ resource: { resourceType: 'Basic', id: `b${i}` } });
        return s;
      },
      [{ pointer: '/bundle/entry', code: 'too_big' }],
    ],
    [
      'a callback URL with a non-http scheme',
      () => ({ ...valid(), callbackUrl: 'file:///etc/passwd' }),
      [{ pointer: '/callbackUrl', code: 'callback_url_scheme' }],
    ],
    [
      'a callback URL at the cloud metadata address (SSRF)',
      () => ({ ...valid(), callbackUrl: 'http://169.254.169.254/latest/meta-data/' }),
      [{ pointer: '/callbackUrl', code: 'callback_url_forbidden' }],
    ],
    [
      'a callback URL at loopback written as a decimal integer (SSRF)',
      () => ({ ...valid(), callbackUrl: 'http://2130706433:8080/hook' }),
      [{ pointer: '/callbackUrl', code: 'callback_url_forbidden' }],
    ],
    [
      'too many free-text notes',
      () => ({ ...valid(), notes: Array.from({ length: 51 }, () => 'n') }),
      [{ pointer: '/notes', code: 'too_big' }],
    ],
  ];

  it(`covers at least 15 malformed or hostile inputs (has ${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)('rejects %s', (_name, build, expected) => {
    const issues = issuesOf(build());
    expect(issues.map(({ pointer, code }) => ({ pointer, code }))).toEqual(expected);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('keeps a Unicode homoglyph name as data, not as an error', () => {
    // Cyrillic letters in a name are legitimate; they are data and must pass untouched.
    const s = withResource(0, { name: [{ family: 'Иванова', given: ['Аnna'] }] });
    expect(() => parseSubmission(s, [])).not.toThrow();
  });

  it('drops fields the system does not use and reduces unknown resource types to type and id', () => {
    const s = valid();
    s.bundle.entry[0]!.resource.extension = [{ url: 'x', valueString: 'y' }];
    s.bundle.entry.push({
      resource: { resourceType: 'Encounter', id: 'e1', status: 'finished', period: { start: '2020-01-01' } },
    });
    const parsed = parseSubmission(s, []);
    expect(parsed.bundle.entry[0]!.resource).not.toHaveProperty('extension');
    expect(parsed.bundle.entry[2]!.resource).toEqual({ resourceType: 'Encounter', id: 'e1' });
  });

  it('defaults priority to routine', () => {
    const { priority: _priority, ...rest } = valid();
    expect(parseSubmission(rest, []).priority).toBe('routine');
  });
});

describe('callback URL screening', () => {
  it.each([
    'http://127.0.0.1/hook',
    'http://10.1.2.3/hook',
    'http://172.20.0.1/hook',
    'http://192.168.1.1/hook',
    'http://[::1]/hook',
    'http://[fd00::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://100.64.0.1/hook',
    'http://0.0.0.0/hook',
    'http://localhost:3000/hook',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://intranet/hook',
    'https://user:pass@example.org/hook',
  ])('refuses %s', (url) => {
    expect(callbackUrlProblem(url, [])).not.toBeNull();
  });

  it.each(['https://hooks.example.org/clinical', 'https://93.184.215.14/hook'])('allows %s', (url) => {
    expect(callbackUrlProblem(url, [])).toBeNull();
  });

  it.each(['http://hooks.example.org/clinical', 'http://93.184.215.14/hook'])(
    'refuses plain http to %s unless the host is allow-listed',
    (url) => {
      expect(callbackUrlProblem(url, [])).toMatch(/must use https/);
      expect(callbackUrlProblem(url, [new URL(url).hostname])).toBeNull();
    },
  );

  it('allows a private host on the allow-list', () => {
    expect(callbackUrlProblem('http://127.0.0.1:9000/hook', ['127.0.0.1'])).toBeNull();
    expect(callbackUrlProblem('http://receiver.local/hook', ['receiver.local'])).toBeNull();
  });
});
