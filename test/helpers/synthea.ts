/**
 * The shared Synthea records (SHARED_DATA_DIR/synthea, see its SOURCE.md), read in place, and the
 * independent readings tests compare the system's output with. The readings are written plainly
 * from the FHIR fields, never through the code under test.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const SYNTHEA_DIR = path.resolve(
  import.meta.dirname,
  '../..',
  process.env.SHARED_DATA_DIR ?? '../shared/data',
  'synthea',
);
/** The record files (synthea-001.json …); empty when the shared data is not there. */
export const SYNTHEA_FILES = existsSync(SYNTHEA_DIR)
  ? readdirSync(SYNTHEA_DIR)
      .filter((f) => /^synthea-\d+\.json$/.test(f))
      .sort()
  : [];

export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export type Coding = { system?: string; code?: string; display?: string };
export interface RawResource {
  resourceType: string;
  [k: string]: unknown;
}
export interface RawBundle {
  resourceType: 'Bundle';
  entry: Array<{ fullUrl?: string; resource: RawResource }>;
}

export const loadSynthea = (file: string): RawBundle =>
  JSON.parse(readFileSync(path.join(SYNTHEA_DIR, file), 'utf8')) as RawBundle;

/**
 * Independent reading of the current medications: MedicationRequests with status `active` and
 * intent `order`, each as its RxNorm code (or, without one, its lower-cased name), sorted.
 */
export function activeOrders(bundle: RawBundle): string[] {
  return bundle.entry
    .map((e) => e.resource)
    .filter((r) => r.resourceType === 'MedicationRequest' && r.status === 'active' && r.intent === 'order')
    .map((r) => {
      const concept = r.medicationCodeableConcept as { coding?: Coding[]; text?: string } | undefined;
      const rx = concept?.coding?.find((c) => c.system === RXNORM);
      return rx?.code ?? (concept?.text ?? concept?.coding?.[0]?.display ?? '').toLowerCase();
    })
    .sort();
}

/** The same key for medications in a minimised view. */
export const viewMedicationKeys = (
  medications: ReadonlyArray<{ name: string; codes: Array<{ system: string; code: string }> }>,
) => medications.map((m) => m.codes.find((c) => c.system === 'rxnorm')?.code ?? m.name.toLowerCase()).sort();

/** The patient's family and given names as the bundle has them (at least 4 characters). */
export function patientNames(bundle: RawBundle): string[] {
  const p = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource as {
    name?: Array<{ family?: string; given?: string[] }>;
  };
  return (p.name ?? []).flatMap((n) => [n.family, ...(n.given ?? [])]).filter((s): s is string => !!s && s.length >= 4);
}

/** Whether the record has an Observation with this LOINC code. */
export function hasLoinc(bundle: RawBundle, loinc: string): boolean {
  return bundle.entry.some(
    (e) =>
      e.resource.resourceType === 'Observation' &&
      (e.resource.code as { coding?: Coding[] } | undefined)?.coding?.some(
        (c) => c.system === 'http://loinc.org' && c.code === loinc,
      ),
  );
}
