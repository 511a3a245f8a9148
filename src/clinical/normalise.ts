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

/**
 * What identifies the patient in free text, as `scrubText` looks for it: names as whole words,
 * everything else anywhere (identifiers and URLs may be glued to other text), and the birth date
 * in its other written forms.
 */
export interface IdentifyingStrings {
  /**
   * Names and their parts: matched as whole words, ignoring case; a two-letter part ("Wu", "Li")
   * is matched only as written (capital first), so "li" or "WU" in other words' place are kept.
   */
  names: string[];
  /** Identifiers, telecom, address, resource ids and URLs, the ISO birth date: matched anywhere, ignoring case. */
  strings: string[];
  /** The patient's birth date as FHIR writes it (YYYY, YYYY-MM or YYYY-MM-DD), or null. */
  birthDate: string | null;
}

/** Separators inside a name: white space, hyphens and dashes, apostrophes. */
const NAME_SEPARATOR = /[\s'‘’ʼ\-‐‑‒–—]+/u;
/** Titles written in a name's text: not identifying, and common words. */
const TITLES = new Set(['mrs', 'miss', 'prof', 'rev', 'mr', 'ms', 'mx', 'dr', 'jr', 'sr']);

/** Every identifying string in the bundle: used to scrub free text. */
export function identifyingStrings(submission: CaseSubmission): IdentifyingStrings {
  const names = new Set<string>();
  const strings = new Set<string>();
  let birthDate: string | null = null;
  // Cleaned like the text they are looked for in, so hidden characters inside a name do not hide it.
  const clean = (s: string | undefined) => (s === undefined ? '' : cleanText(s).trim());
  const add = (s: string | undefined) => {
    const t = clean(s);
    if (t.length >= 3) strings.add(t);
  };
  /** A name, the name with its separators as spaces and removed, and each part ("Smith-Jones": "Smith Jones", "SmithJones", "Smith", "Jones"). */
  const addName = (s: string | undefined) => {
    const t = clean(s);
    const parts = t.split(NAME_SEPARATOR).filter(Boolean);
    for (const n of [t, parts.join(' '), parts.join(''), ...parts.filter((p) => !TITLES.has(p.toLowerCase()))])
      if (n.length >= 2 && /[\p{L}\p{N}]/u.test(n)) names.add(n);
  };
  for (const { fullUrl, resource } of submission.bundle.entry) {
    add(fullUrl);
    if ('id' in resource) add(resource.id);
    if (resource.resourceType === 'Patient') {
      const p = resource as Patient;
      for (const n of p.name ?? []) [n.text, n.family, ...(n.given ?? [])].forEach(addName);
      for (const i of p.identifier ?? []) add(i.value);
      for (const t of p.telecom ?? []) add(t.value);
      for (const a of p.address ?? []) [a.text, ...(a.line ?? []), a.city, a.postalCode].forEach(add);
      add(p.birthDate);
      birthDate ??= p.birthDate ?? null;
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
  const longestFirst = (set: Set<string>) => [...set].sort((a, b) => b.length - a.length);
  return { names: longestFirst(names), strings: longestFirst(strings), birthDate };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A letter, digit or combining mark: what a whole word must not touch. */
const WORD_CHAR = String.raw`[\p{L}\p{N}\p{M}]`;

/** A name as a whole word, ignoring case; any separator in it matches any run of separators ("O'Brien", "O’Brien", "O Brien"). */
function nameRegExp(name: string): RegExp {
  const body = name
    .split(NAME_SEPARATOR)
    .map(escapeRegExp)
    .join(String.raw`[\s'‘’ʼ\-‐‑‒–—]+`);
  const before = new RegExp(`^${WORD_CHAR}`, 'u').test(name) ? `(?<!${WORD_CHAR})` : '';
  const after = new RegExp(`${WORD_CHAR}$`, 'u').test(name) ? `(?!${WORD_CHAR})` : '';
  // A two-letter name part is matched as written: ignoring case it would take "li" from "Li+" notes' neighbours and every "wu".
  return new RegExp(`${before}${body}${after}`, name.length <= 2 ? 'gu' : 'giu');
}

const MONTHS = [
  'jan(?:uary)?',
  'feb(?:ruary)?',
  'mar(?:ch)?',
  'apr(?:il)?',
  'may',
  'june?',
  'july?',
  'aug(?:ust)?',
  'sep(?:t(?:ember)?)?',
  'oct(?:ober)?',
  'nov(?:ember)?',
  'dec(?:ember)?',
];
/** A month by name ("June", "Jun", "Jun.", "Sept"), not the start of a longer word. */
const monthName = (names: string) => String.raw`(?:${names})\.?(?!\p{L})`;
/** An optional weekday before a date: written out, or abbreviated with a full stop or comma ("Mon,"). */
const WEEKDAY = String.raw`(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day[,.]?\s+|(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[,.]\s*)?`;
const ORDINAL = '(?:st|nd|rd|th)?';
/** Units after a number: a date is never followed by one ("5/1/25 mg" is a dose). */
const NO_UNIT = String.raw`(?!\s*(?:[mµμnpk]?g|mcg|ug|[mµμd]?l|m?mol|m?eq|i?u|units?|%|tabs?|tablets?|caps?|capsules?|puffs?|drops?)(?!\p{L}))`;
/** What a numeric date must not touch on either side: more digits, decimals or fractions ("0.12/0.015", "12.5/25"). */
const NUM_BEFORE = String.raw`(?<![\p{L}\p{N}_.,/])`;
const NUM_AFTER = String.raw`(?![\p{N}]|[.,/]\p{N})`;

/**
 * A date written with a month name: day first ("30 June 1952", "30th of June, 1952", "Monday
 * 30 Jun 1952", "30-Jun-1952") or month first ("June 30, 1952", "Jun 30 1952"), followed by
 * `year` (a pattern for the year with what comes before it, required or optional).
 */
const wordDateSources = (day: string, month: string, year: string) => [
  String.raw`(?<!${WORD_CHAR})${WEEKDAY}(?:the\s+)?${day}${ORDINAL}(?:\s+of\s+|\s*(?:[-/.]\s*)?)${month}${year}`,
  String.raw`(?<!${WORD_CHAR})${WEEKDAY}${month}(?:\s+the)?\s*(?:[-/.]\s*)?${day}${ORDINAL}(?!${WORD_CHAR})${year}`,
];

const DAY = '(?:0?[1-9]|[12][0-9]|3[01])';
const MONTH_NUMBER = '(?:0?[1-9]|1[0-2])';
const YEAR = String.raw`(?:(?:1[0-9]|20)[0-9]{2}|'[0-9]{2})`;
const ANY_MONTH = monthName(MONTHS.join('|'));

/** Replaced in every text, after the identifying strings. */
export const SCRUB_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // E-mail first, so a date or number inside an address does not split it.
  // Every pattern here is linear in the text: a match can only start where its run starts (the
  // look-behinds), and no quantified part can be re-scanned from many positions
  // (test/unit/regex-linear.test.ts feeds each adversarial input; bench/regex.ts times them).
  [/(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[EMAIL]'],
  [/\b\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?\b/g, '[DATE]'],
  // Dates with a month name and a year; a day and month without a year are kept unless they are the birthday.
  ...wordDateSources(DAY, ANY_MONTH, String.raw`\s*(?:[-/.,]\s*)?${YEAR}(?!\p{N})${NO_UNIT}`).map(
    (s): [RegExp, string] => [new RegExp(s, 'giu'), '[DATE]'],
  ),
  [
    new RegExp(String.raw`(?<!${WORD_CHAR})${DAY}([-/.])${ANY_MONTH}(?:\1)[0-9]{2}(?!\p{N})${NO_UNIT}`, 'giu'),
    '[DATE]',
  ],
  // Numeric dates: day and month either way round with the same separator twice, or year first.
  [
    new RegExp(
      String.raw`${NUM_BEFORE}(?:${DAY}([/.])${MONTH_NUMBER}(?:\1)(?:[0-9]{4}|[0-9]{2})|${MONTH_NUMBER}([/.])${DAY}(?:\2)(?:[0-9]{4}|[0-9]{2})|${DAY}-${MONTH_NUMBER}-[0-9]{4}|${MONTH_NUMBER}-${DAY}-[0-9]{4}|(?:1[0-9]|20)[0-9]{2}([/.])${MONTH_NUMBER}(?:\3)${DAY})${NUM_AFTER}${NO_UNIT}`,
      'gu',
    ),
    '[DATE]',
  ],
  [/(?<!\d)\+?\d[\d ()-]{7,}\d/g, '[PHONE]'],
  [/(?<![\d.])\d+(\.\d+){4,}\b/g, '[UID]'],
  // Ages over 89 are one category (HIPAA Safe Harbor): "93-year-old", "aged 95", "age: 101", "91 years".
  [/(?<![\p{N}.])(?:9\d|1[0-4]\d)(?=[\s-]?(?:years?|yrs?|y\/?o)\b)/giu, '[AGE OVER 89]'],
  [/\b(aged?\s*(?::\s*)?)(?:9\d|1[0-4]\d)(?![\p{N}.])/giu, '$1[AGE OVER 89]'],
  // An identifier after its label ("MRN: AB123456", "NHS 9434765919", "ID12345"): it has a digit; "idiopathic" is a word.
  // The separator run is taken whole (an atomic group: look-ahead and back-reference), and the
  // digit an identifier needs is looked for in its first 40 characters.
  [/\b(MRN|NHS|SSN|ID)(?=[\s:#-]|\d)(?=([\s:#-]*))\2(?=[A-Z0-9-]{0,39}\d)[A-Z0-9-]{4,}\b/gi, '[ID]'],
];

/** The birth date's other written forms: numeric either way round or year first, and day and month by name with or without the year. */
function birthDatePatterns(birthDate: string | null): RegExp[] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate ?? '');
  if (!m) return [];
  const [, y = '', mm = '', dd = ''] = m;
  const day = dd.startsWith('0') ? `0?${dd[1]}` : dd;
  const month = mm.startsWith('0') ? `0?${mm[1]}` : mm;
  const year = `(?:${y}|${y.slice(2)})`;
  const numeric = String.raw`${NUM_BEFORE}(?:${day}([-/.])${month}(?:\1)${year}|${month}([-/.])${day}(?:\2)${year}|${y}([-/.])${month}(?:\3)${day})${NUM_AFTER}`;
  const words = wordDateSources(
    day,
    monthName(MONTHS[Number(mm) - 1] ?? ''),
    // With the birth year, or with no year at all: "30 June 2019" is another date ([DATE]), not the birthday.
    String.raw`(?:\s*(?:[-/.,]\s*)?(?:${y}|'?${y.slice(2)})(?!\p{N})|(?!\s*(?:[-/.,]\s*)?'?\p{N}{2}(?:\p{N}{2})?(?!\p{N})))`,
  );
  return [new RegExp(numeric, 'gu'), ...words.map((s) => new RegExp(s, 'giu'))];
}

interface Scrubber {
  /** Identifying strings and names, longest first, each with its pattern. */
  terms: RegExp[];
  birthDate: RegExp[];
}

const scrubbers = new WeakMap<object, Scrubber>();

function scrubberOf(identifying: IdentifyingStrings | readonly string[]): Scrubber {
  let scrubber = scrubbers.get(identifying);
  if (scrubber) return scrubber;
  const { names, strings, birthDate } =
    'names' in identifying ? identifying : { names: [], strings: identifying, birthDate: null };
  const terms = [
    ...names.map((s) => ({ length: s.length, re: nameRegExp(s) })),
    ...strings.map((s) => ({ length: s.length, re: new RegExp(escapeRegExp(s), 'gi') })),
  ];
  scrubber = {
    terms: terms.sort((a, b) => b.length - a.length).map((t) => t.re),
    birthDate: birthDatePatterns(birthDate),
  };
  scrubbers.set(identifying, scrubber);
  return scrubber;
}

/**
 * Clean free text (NFKC, hidden characters removed), then remove identifying strings (names as
 * whole words), the birth date however it is written, and date-, contact- and identifier-shaped
 * patterns. A plain list of strings is matched anywhere, as identifiers are.
 */
export function scrubText(text: string, identifying: IdentifyingStrings | readonly string[]): string {
  const { terms, birthDate } = scrubberOf(identifying);
  let out = cleanText(text);
  for (const re of terms) out = out.replace(re, '[REDACTED]');
  for (const re of birthDate) out = out.replace(re, '[REDACTED]');
  for (const [re, token] of SCRUB_PATTERNS) out = out.replace(re, token);
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
