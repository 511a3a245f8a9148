import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { CaseSubmissionInput } from '../../src/domain/case.js';

export const EXAMPLES_DIR = path.resolve(import.meta.dirname, '../../examples/cases');

export interface ExampleCase {
  file: string;
  description: string;
  submission: CaseSubmissionInput & { bundle: { entry: Array<{ resource: Record<string, unknown> }> } };
}

export function loadExampleCases(): ExampleCase[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Omit<ExampleCase, 'file'> & {
        synthetic: boolean;
      };
      if (parsed.synthetic !== true) throw new Error(`${file} is not labelled synthetic`);
      return { file, description: parsed.description, submission: parsed.submission };
    });
}

/** A small valid submission; pass a case id to make it unique. */
export function minimalSubmission(caseId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caseId,
    question: 'Is the current medication list safe?',
    priority: 'routine',
    bundle: {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'Patient',
            id: 'p1',
            name: [{ family: 'Synthetic-Testperson', given: ['Ada'] }],
            birthDate: '1950-05-05',
          },
        },
        {
          resource: {
            resourceType: 'MedicationStatement',
            id: 'm1',
            status: 'active',
            medicationCodeableConcept: { text: 'warfarin' },
            subject: { reference: 'Patient/p1' },
          },
        },
      ],
    },
    ...overrides,
  };
}

/** Every identifying string of the example bundles: names, identifiers, birth dates, addresses, phones. */
export function identifiersOf(submission: ExampleCase['submission']): string[] {
  const out: string[] = [];
  for (const { resource } of submission.bundle.entry) {
    if (resource.resourceType !== 'Patient') continue;
    const p = resource as {
      name?: Array<{ family?: string; given?: string[] }>;
      identifier?: Array<{ value?: string }>;
      birthDate?: string;
      telecom?: Array<{ value?: string }>;
      address?: Array<{ line?: string[]; postalCode?: string }>;
    };
    for (const n of p.name ?? []) out.push(...[n.family, ...(n.given ?? [])].filter((x): x is string => !!x));
    for (const i of p.identifier ?? []) if (i.value) out.push(i.value);
    if (p.birthDate) out.push(p.birthDate);
    for (const t of p.telecom ?? []) if (t.value) out.push(t.value);
    for (const a of p.address ?? []) out.push(...(a.line ?? []), ...(a.postalCode ? [a.postalCode] : []));
  }
  return out;
}
