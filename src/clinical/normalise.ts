/**
 * FHIR Bundle → compact, PHI-minimised case view.
 *
 * The view is the only representation of a case that ever leaves the process (to a model or a
 * tool). It holds no names, identifiers, addresses, contact details, resource ids, study UIDs
 * or exact dates: resources get local references (`med-1`, `lab-2`), dates become "days before
 * the case", ages are whole years with everything above 89 reported as "90+", and free text is
 * scrubbed of every identifying string found in the bundle plus date, phone, e-mail and
 * identifier-like patterns.
 */
import type { CaseSubmission } from '../domain/case.js';
import type {
  CodeableConcept,
  ImagingStudy,
  KnownResource,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
} from '../domain/fhir.js';
import { DicomUid, IMAGE_CONTENT_TYPES, type ImageSource } from '../domain/imaging.js';
import { CaseCounts, type CodeView, type MinimisedCase, type ProblemView } from '../domain/minimised-case.js';
import { cleanText } from './injection.js';
import {
  describeMedication,
  medicationActivity,
  readDosage,
  resolveMedication,
  unitStrengthMg,
} from './medications.js';
import { summariseObservations } from './observations.js';

/**
 * In-process only: where each imaging reference's pixels are (DICOM UIDs or an inline
 * attachment). Only the imaging tool reads it, to fetch and decode the pixels locally; it is
 * never sent to a model, logged or put on the review queue.
 */
export interface ReferenceMap {
  imaging: Record<string, ImageSource>;
}

const uidOf = (value: string | undefined) => {
  const v = value?.replace(/^urn:oid:/, '').trim();
  return v && DicomUid.safeParse(v).success ? v : null;
};

/** The DICOMweb instance an ImagingStudy points at: study UID (identifier urn:dicom:uid), first series, first instance. */
function studySource(study: ImagingStudy): ImageSource {
  const studyUid = uidOf(study.identifier?.find((i) => i.system === 'urn:dicom:uid')?.value);
  const series = study.series?.find((s) => s.instance?.length);
  const seriesUid = uidOf(series?.uid);
  const instanceUid = uidOf(series?.instance?.[0]?.uid);
  if (!studyUid)
    return {
      kind: 'none',
      reason: 'the ImagingStudy has no study instance UID (identifier with system urn:dicom:uid)',
    };
  if (!seriesUid || !instanceUid) return { kind: 'none', reason: 'the ImagingStudy lists no series and instance UID' };
  return { kind: 'dicomweb', studyUid, seriesUid, instanceUid };
}

const DAY_MS = 86_400_000;

const conceptText = (c: CodeableConcept | undefined): string | null =>
  c?.text?.trim() ||
  c?.coding?.find((x) => x.display)?.display?.trim() ||
  c?.coding?.find((x) => x.code)?.code?.trim() ||
  null;

function ageOf(birthDate: string | undefined, at: Date): string | null {
  if (!birthDate) return null;
  const [y, m = 7, d = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  let age = at.getUTCFullYear() - y;
  if (at.getUTCMonth() + 1 < m || (at.getUTCMonth() + 1 === m && at.getUTCDate() < d)) age -= 1;
  if (age < 0) return null;
  return age > 89 ? '90+' : String(age);
}

function daysBefore(dateTime: string | undefined, at: Date): number | null {
  if (!dateTime) return null;
  const t = Date.parse(
    dateTime.length === 4 ? `${dateTime}-07-01` : dateTime.length === 7 ? `${dateTime}-15` : dateTime,
  );
  if (Number.isNaN(t)) return null;
  return Math.max(0, Math.round((at.getTime() - t) / DAY_MS));
}

const CODE_SYSTEMS: Record<string, CodeView['system']> = {
  'http://snomed.info/sct': 'snomed',
  'http://hl7.org/fhir/sid/icd-10-cm': 'icd10',
  'http://hl7.org/fhir/sid/icd-10': 'icd10',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'rxnorm',
  'http://fdasis.nlm.nih.gov': 'unii',
  'http://www.whocc.no/atc': 'atc',
  'http://loinc.org': 'loinc',
};

/** The terminology codes of a concept (codes name concepts, not people); displays are scrubbed like all text. */
function conceptCodes(c: CodeableConcept | undefined, scrub: (s: string) => string): CodeView[] {
  return (c?.coding ?? []).flatMap((x) => {
    const system = x.system ? CODE_SYSTEMS[x.system] : undefined;
    return system && x.code && /^[A-Za-z0-9.-]{1,40}$/.test(x.code)
      ? [{ system, code: x.code, display: x.display ? scrub(x.display) : null }]
      : [];
  });
}

/** Clinical statuses of a condition that is no longer current. */
const PAST_CONDITION = new Set(['resolved', 'inactive', 'remission']);
/** Verification statuses that mean the record does not hold: left out of the view (and counted). */
const NOT_HELD = new Set(['refuted', 'entered-in-error']);
const statusCode = (c: CodeableConcept | undefined) => c?.coding?.find((x) => x.code)?.code ?? c?.text ?? null;

/** At most this many current and this many resolved problems; the rest are counted. */
const MAX_PROBLEMS = 60;

/** Every identifying string in the bundle: used to scrub free text. */
export function identifyingStrings(submission: CaseSubmission): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined) => {
    // Cleaned like the text they are looked for in, so hidden characters inside a name do not hide it.
    const t = s === undefined ? undefined : cleanText(s).trim();
    if (t && t.length >= 3) out.add(t);
  };
  for (const { fullUrl, resource } of submission.bundle.entry) {
    add(fullUrl);
    if ('id' in resource) add(resource.id);
    if (resource.resourceType === 'Patient') {
      const p = resource as Patient;
      for (const n of p.name ?? []) [n.text, n.family, ...(n.given ?? [])].forEach(add);
      for (const i of p.identifier ?? []) add(i.value);
      for (const t of p.telecom ?? []) add(t.value);
      for (const a of p.address ?? []) [a.text, ...(a.line ?? []), a.city, a.postalCode].forEach(add);
      add(p.birthDate);
    }
    if (resource.resourceType === 'ImagingStudy') {
      const study = resource as ImagingStudy;
      for (const i of study.identifier ?? []) add(i.value);
      for (const s of study.series ?? []) {
        add(s.uid);
        for (const inst of s.instance ?? []) add(inst.uid);
      }
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const PATTERNS: Array<[RegExp, string]> = [
  [/\b\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?\b/g, '[DATE]'],
  [/\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b/g, '[DATE]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[EMAIL]'],
  [/\+?\d[\d ()-]{7,}\d/g, '[PHONE]'],
  [/\b\d+(\.\d+){4,}\b/g, '[UID]'],
  [/\b(MRN|NHS|SSN|ID)[\s:#-]*[A-Z0-9-]{4,}\b/gi, '[ID]'],
];

/** Clean free text (NFKC, hidden characters removed), then remove identifying strings and identifier-shaped patterns. */
export function scrubText(text: string, identifying: readonly string[]): string {
  let out = cleanText(text);
  for (const s of identifying) out = out.replace(new RegExp(escapeRegExp(s), 'gi'), '[REDACTED]');
  for (const [re, token] of PATTERNS) out = out.replace(re, token);
  return out;
}

function decodeText(base64: string | undefined): string | null {
  if (!base64) return null;
  try {
    const text = Buffer.from(base64, 'base64').toString('utf8');
    // Keep only printable text; binary attachments are not notes.
    return /^[\p{L}\p{N}\p{P}\p{S}\p{Z}\n\r\t]*$/u.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** Build the PHI-minimised view (and the in-process reference map) of a submission. */
export function normaliseCase(submission: CaseSubmission, at: Date): { view: MinimisedCase; refs: ReferenceMap } {
  const identifying = identifyingStrings(submission);
  const scrub = (s: string) => scrubText(s, identifying);
  /** Short coded text (routes, units, statuses) is case text too: cleaned and scrubbed like the rest. */
  const scrubOrNull = (s: string | null | undefined) => (s ? scrub(s) : null);
  const view: MinimisedCase = {
    question: scrub(submission.question),
    patient: { age: null, sex: null },
    problems: [],
    resolvedProblems: [],
    medications: [],
    allergies: [],
    labs: [],
    otherLabs: [],
    imaging: [],
    notes: [],
    counts: CaseCounts.parse({}),
  };
  const refs: ReferenceMap = { imaging: {} };
  const addNotes = (source: string, notes: Array<{ text: string }> | undefined) => {
    for (const n of notes ?? []) view.notes.push({ ref: `note-${view.notes.length + 1}`, source, text: scrub(n.text) });
  };
  const days = (dateTime: string | undefined) => daysBefore(dateTime, at);
  const entries = submission.bundle.entry as Array<{ fullUrl?: string; resource: KnownResource }>;
  const medicationsInBundle = new Map<string, Medication>();
  for (const { fullUrl, resource } of entries) {
    view.counts.resources[resource.resourceType] = (view.counts.resources[resource.resourceType] ?? 0) + 1;
    if (resource.resourceType !== 'Medication') continue;
    if (fullUrl) medicationsInBundle.set(fullUrl, resource);
    if (resource.id) medicationsInBundle.set(`Medication/${resource.id}`, resource);
  }
  const observations: Observation[] = [];
  let problemCount = 0;

  const addMedication = (r: MedicationRequest | MedicationStatement) => {
    const activity = medicationActivity(r, at);
    view.counts.medicationsByStatus[activity.status] = (view.counts.medicationsByStatus[activity.status] ?? 0) + 1;
    if (!activity.current) return;
    const referenced = resolveMedication(r, medicationsInBundle);
    const what = describeMedication(r, referenced, conceptText);
    const dosage = r.resourceType === 'MedicationRequest' ? r.dosageInstruction?.[0] : r.dosage?.[0];
    const how = readDosage(dosage, { strengthMg: unitStrengthMg(what.ingredients), form: what.form }, conceptText, at);
    const ref = `med-${view.medications.length + 1}`;
    const codeText = what.codes[0] ? ` (${what.codes[0].system.toUpperCase()} ${what.codes[0].code})` : '';
    view.medications.push({
      ref,
      name: scrub(what.name ?? `unnamed medication${codeText}`),
      dose: how.dose ? { value: how.dose.value, unit: scrub(how.dose.unit) } : null,
      route: scrubOrNull(conceptText(dosage?.route)),
      frequencyPerDay: how.frequencyPerDay,
      frequency: scrubOrNull(how.frequency),
      doseText: scrubOrNull(how.doseText),
      asNeeded: how.asNeeded,
      asNeededFor: scrubOrNull(how.asNeededFor),
      instructions: dosage?.text ? scrub(dosage.text) : null,
      status: r.status,
      codes: what.codes,
      ingredients: what.ingredients.map((i) => ({ name: scrub(i.name), strength: scrubOrNull(i.strength) })),
      form: scrubOrNull(what.form),
      startedDaysBeforeCase: days(
        r.resourceType === 'MedicationRequest' ? r.authoredOn : (r.effectivePeriod?.start ?? r.effectiveDateTime),
      ),
      problems: how.problems.map(scrub),
    });
    addNotes(`${ref} note`, r.note);
  };

  // Unknown resource types carry only type and id; the switch ignores them.
  for (const { resource } of entries) {
    switch (resource.resourceType) {
      case 'Patient': {
        const p = resource;
        view.patient = { age: ageOf(p.birthDate, at), sex: p.gender ?? null };
        break;
      }
      case 'Condition': {
        const r = resource;
        const verification = statusCode(r.verificationStatus);
        if (verification && NOT_HELD.has(verification)) break;
        const status = statusCode(r.clinicalStatus);
        const past = (status !== null && PAST_CONDITION.has(status)) || r.abatementBoolean === true;
        const list: ProblemView[] = past ? view.resolvedProblems : view.problems;
        problemCount += 1;
        if (list.length >= MAX_PROBLEMS) {
          view.counts.conditionsNotListed += 1;
          break;
        }
        const ref = `problem-${problemCount}`;
        list.push({
          ref,
          text: scrub(conceptText(r.code) ?? 'unspecified condition'),
          status: scrubOrNull(status),
          verification: scrubOrNull(verification),
          onsetDaysBeforeCase: days(r.onsetDateTime ?? r.onsetPeriod?.start),
          abatementDaysBeforeCase: days(r.abatementDateTime ?? r.abatementPeriod?.end ?? r.abatementPeriod?.start),
          codes: conceptCodes(r.code, scrub),
        });
        addNotes(`${ref} note`, r.note);
        break;
      }
      case 'MedicationRequest':
      case 'MedicationStatement':
        addMedication(resource);
        break;
      case 'AllergyIntolerance': {
        const r = resource;
        const verification = statusCode(r.verificationStatus);
        if (verification && NOT_HELD.has(verification)) break;
        const ref = `allergy-${view.allergies.length + 1}`;
        view.allergies.push({
          ref,
          substance: scrub(conceptText(r.code) ?? 'unspecified substance'),
          criticality: r.criticality ?? null,
          reactions: (r.reaction ?? []).flatMap((x) => x.manifestation.map((m) => scrub(conceptText(m) ?? 'reaction'))),
          category: r.category ?? [],
          status: scrubOrNull(statusCode(r.clinicalStatus)),
          verification: scrubOrNull(verification),
          codes: conceptCodes(r.code, scrub),
        });
        addNotes(`${ref} note`, r.note);
        break;
      }
      case 'Observation':
        observations.push(resource);
        for (const n of resource.note ?? []) addNotes('observation note', [n]);
        break;
      case 'ImagingStudy': {
        const r = resource;
        const ref = `img-${view.imaging.length + 1}`;
        const series = r.series?.[0];
        view.imaging.push({
          ref,
          modality: scrubOrNull(r.modality?.[0]?.code ?? series?.modality.code),
          bodySite: scrubOrNull(series?.bodySite?.display ?? series?.bodySite?.code),
          description: r.description ? scrub(r.description) : null,
          instances: r.numberOfInstances ?? null,
          daysBeforeCase: daysBefore(r.started, at),
        });
        refs.imaging[ref] = studySource(r);
        break;
      }
      case 'DocumentReference': {
        const r = resource;
        for (const c of r.content) {
          const type = c.attachment.contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
          if ((IMAGE_CONTENT_TYPES as readonly string[]).includes(type)) {
            // An image attachment is an imaging study of its own; its pixels stay in-process.
            const ref = `img-${view.imaging.length + 1}`;
            const described = r.description ?? conceptText(r.type);
            const title = c.attachment.title ? `file ${c.attachment.title}` : null;
            const description = [described, title].filter(Boolean).join('; ');
            view.imaging.push({
              ref,
              modality: null,
              bodySite: null,
              description: description ? scrub(description) : null,
              instances: 1,
              daysBeforeCase: daysBefore(r.date, at),
            });
            refs.imaging[ref] = c.attachment.data
              ? { kind: 'inline', contentType: type, base64: c.attachment.data.replace(/\s+/g, '') }
              : {
                  kind: 'none',
                  reason:
                    'the image attachment has no inline data (images are fetched only from the configured DICOMweb server, never from a URL in the case)',
                };
            continue;
          }
          const text = decodeText(c.attachment.data);
          // The file name is data like the rest: it is shown (scrubbed) and scanned for instructions.
          const source = [r.description, c.attachment.title ? `file ${c.attachment.title}` : null]
            .filter(Boolean)
            .join('; ');
          if (text)
            view.notes.push({
              ref: `note-${view.notes.length + 1}`,
              source: source ? scrub(source) : 'document',
              text: scrub(text),
            });
        }
        break;
      }
      default:
        break;
    }
  }
  const results = summariseObservations(observations, { scrub, conceptText, daysBefore: days });
  view.labs = results.key.map((l, i) => ({ ...l, ref: `lab-${i + 1}` }));
  view.otherLabs = results.other.map((l, i) => ({ ...l, ref: `lab-${view.labs.length + i + 1}` }));
  view.counts.observations = results.results;
  view.counts.tests = results.tests;
  view.counts.testsNotListed = results.tests - view.labs.length - view.otherLabs.length;
  for (const text of submission.notes ?? [])
    view.notes.push({ ref: `note-${view.notes.length + 1}`, source: 'submission note', text: scrub(text) });
  return { view, refs };
}
