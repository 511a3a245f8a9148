/**
 * The subset of FHIR R4 that a case may carry, as zod schemas.
 *
 * Known resource types (Patient, Condition, MedicationRequest, MedicationStatement,
 * AllergyIntolerance, Observation, ImagingStudy, DocumentReference) are validated against
 * the R4 cardinalities we rely on; fields this system does not use are dropped at intake
 * (data minimisation). Other resource types are accepted but reduced to `resourceType` and
 * `id`. Every string and array is bounded so that hostile payloads cannot grow state.
 */
import { z } from 'zod';
import { DicomUid } from './imaging.js';

const MAX_SHORT = 256;
const MAX_TEXT = 20_000;

const str = (max = MAX_SHORT) => z.string().max(max);
const arr = <T extends z.ZodType>(item: T, max = 50) => z.array(item).max(max);

/** FHIR `id`: 1-64 of [A-Za-z0-9-.] */
export const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'FHIR id: 1-64 characters of A-Z, a-z, 0-9, - and .');
/** FHIR `date`: YYYY, YYYY-MM or YYYY-MM-DD */
export const FhirDate = z
  .string()
  .regex(/^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/, 'FHIR date: YYYY, YYYY-MM or YYYY-MM-DD');
/** FHIR `dateTime`: a date, or a full timestamp with time zone */
export const FhirDateTime = z
  .string()
  .regex(
    /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,9})?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/,
    'FHIR dateTime: YYYY[-MM[-DD[Thh:mm:ss[.sss](Z|+hh:mm)]]]',
  );

export const Coding = z.object({
  system: str(1024).optional(),
  version: str().optional(),
  code: str().optional(),
  display: str(1024).optional(),
});
export const CodeableConcept = z.object({ coding: arr(Coding, 20).optional(), text: str(1024).optional() });
export const Reference = z.object({ reference: str(1024).optional(), display: str(1024).optional() });
export const Quantity = z.object({
  value: z.number().finite().optional(),
  comparator: z.enum(['<', '<=', '>=', '>']).optional(),
  unit: str().optional(),
  system: str(1024).optional(),
  code: str().optional(),
});
const Identifier = z.object({ system: str(1024).optional(), value: str().optional() });
const Annotation = z.object({ text: str(MAX_TEXT), time: FhirDateTime.optional() });
const HumanName = z.object({ text: str().optional(), family: str().optional(), given: arr(str(), 10).optional() });
const ContactPoint = z.object({ system: str().optional(), value: str().optional(), use: str().optional() });
const Address = z.object({
  text: str(1024).optional(),
  line: arr(str(), 10).optional(),
  city: str().optional(),
  state: str().optional(),
  postalCode: str().optional(),
  country: str().optional(),
});
/** A DICOM UID as FHIR carries it (`urn:oid:` optional). Anything else — paths, URLs, `..` — is refused at intake. */
const FhirDicomUid = z
  .string()
  .max(80)
  .refine((v) => DicomUid.safeParse(v.replace(/^urn:oid:/, '')).success, {
    message: 'must be a DICOM UID (digits and dots, at most 64 characters, optionally prefixed urn:oid:)',
    params: { zodCode: 'dicom_uid' },
  });

/**
 * An attachment URL. This system never fetches one (pixels come inline or from the configured
 * DICOMweb server by UID), but a reference that tries to reach the file system or climb out of a
 * path is refused rather than carried along: absolute http(s) or urn: URLs, or a relative FHIR
 * reference (`Binary/123`), without `..` segments, backslashes or control characters.
 */
const AttachmentUrl = str(2048).refine(
  (v) => {
    let decoded = v;
    try {
      decoded = decodeURIComponent(v);
    } catch {
      return false;
    }
    // eslint-disable-next-line no-control-regex -- control characters are refused
    if (/(^|[/\\])\.\.([/\\]|$)|\\|[\u0000-\u001f]/.test(decoded)) return false;
    return (
      /^https?:\/\/[^\s]+$/i.test(v) ||
      /^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$/i.test(v) ||
      /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}$/.test(v)
    );
  },
  {
    message:
      'attachment.url must be an http(s) or urn: URL or a relative FHIR reference (Type/id), without ".." segments; file paths are refused',
    params: { zodCode: 'attachment_url' },
  },
);

const Range = z.object({ low: Quantity.optional(), high: Quantity.optional() });
const Ratio = z.object({ numerator: Quantity.optional(), denominator: Quantity.optional() });
const Period = z.object({ start: FhirDateTime.optional(), end: FhirDateTime.optional() });
const Duration = z.object({
  value: z.number().finite().min(0).optional(),
  unit: str().optional(),
  code: str().optional(),
});
const TIME_UNITS = ['s', 'min', 'h', 'd', 'wk', 'mo', 'a'] as const;

export const Dosage = z.object({
  sequence: z.number().int().optional(),
  text: str(2000).optional(),
  patientInstruction: str(2000).optional(),
  additionalInstruction: arr(CodeableConcept, 10).optional(),
  route: CodeableConcept.optional(),
  asNeededBoolean: z.boolean().optional(),
  asNeededCodeableConcept: CodeableConcept.optional(),
  timing: z
    .object({
      code: CodeableConcept.optional(),
      repeat: z
        .object({
          // FHIR positiveInt / decimal: a frequency of zero or less, or a period of zero or less, means nothing.
          frequency: z.number().int().min(1).max(1000).optional(),
          frequencyMax: z.number().int().min(1).max(1000).optional(),
          period: z.number().finite().positive().optional(),
          periodMax: z.number().finite().positive().optional(),
          periodUnit: z.enum(TIME_UNITS).optional(),
          count: z.number().int().min(1).optional(),
          when: arr(str(), 10).optional(),
          timeOfDay: arr(str(), 10).optional(),
          dayOfWeek: arr(str(), 7).optional(),
          boundsPeriod: Period.optional(),
          boundsDuration: Duration.optional(),
        })
        .optional(),
    })
    .optional(),
  doseAndRate: arr(
    z.object({
      doseQuantity: Quantity.optional(),
      doseRange: Range.optional(),
      rateQuantity: Quantity.optional(),
      rateRatio: Ratio.optional(),
    }),
    10,
  ).optional(),
  maxDosePerPeriod: Ratio.optional(),
});

const base = { id: FhirId.optional(), meta: z.object({ lastUpdated: FhirDateTime.optional() }).optional() };

export const Patient = z.object({
  resourceType: z.literal('Patient'),
  ...base,
  identifier: arr(Identifier, 20).optional(),
  name: arr(HumanName, 10).optional(),
  telecom: arr(ContactPoint, 20).optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
  birthDate: FhirDate.optional(),
  deceasedBoolean: z.boolean().optional(),
  address: arr(Address, 10).optional(),
});

export const Condition = z.object({
  resourceType: z.literal('Condition'),
  ...base,
  clinicalStatus: CodeableConcept.optional(),
  verificationStatus: CodeableConcept.optional(),
  severity: CodeableConcept.optional(),
  code: CodeableConcept.optional(),
  subject: Reference,
  onsetDateTime: FhirDateTime.optional(),
  onsetPeriod: Period.optional(),
  abatementDateTime: FhirDateTime.optional(),
  abatementPeriod: Period.optional(),
  abatementBoolean: z.boolean().optional(),
  recordedDate: FhirDateTime.optional(),
  note: arr(Annotation, 20).optional(),
});

/** A Medication resource: what a `medicationReference` points at, in the bundle or contained. */
export const Medication = z.object({
  resourceType: z.literal('Medication'),
  ...base,
  code: CodeableConcept.optional(),
  status: z.enum(['active', 'inactive', 'entered-in-error']).optional(),
  form: CodeableConcept.optional(),
  ingredient: arr(
    z.object({
      itemCodeableConcept: CodeableConcept.optional(),
      itemReference: Reference.optional(),
      isActive: z.boolean().optional(),
      strength: Ratio.optional(),
    }),
    20,
  ).optional(),
});

/** Contained resources: a contained Medication is validated like one in the bundle; others are reduced to type and id. */
const Contained = arr(
  z
    .looseObject({ resourceType: z.string().max(64) })
    .transform((raw, ctx): z.infer<typeof Medication> | { resourceType: string; id?: string } => {
      if (raw.resourceType !== 'Medication')
        return { resourceType: raw.resourceType, ...(typeof raw.id === 'string' ? { id: raw.id.slice(0, 64) } : {}) };
      const parsed = Medication.safeParse(raw);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, params: { zodCode: issue.code } });
      return z.NEVER;
    }),
  20,
);

const medication = {
  medicationCodeableConcept: CodeableConcept.optional(),
  medicationReference: Reference.optional(),
};

export const MedicationRequest = z.object({
  resourceType: z.literal('MedicationRequest'),
  ...base,
  status: z.enum(['active', 'on-hold', 'cancelled', 'completed', 'entered-in-error', 'stopped', 'draft', 'unknown']),
  intent: z.enum([
    'proposal',
    'plan',
    'order',
    'original-order',
    'reflex-order',
    'filler-order',
    'instance-order',
    'option',
  ]),
  ...medication,
  contained: Contained.optional(),
  subject: Reference,
  authoredOn: FhirDateTime.optional(),
  dosageInstruction: arr(Dosage, 10).optional(),
  dispenseRequest: z
    .object({
      validityPeriod: Period.optional(),
      expectedSupplyDuration: Duration.optional(),
      numberOfRepeatsAllowed: z.number().int().min(0).optional(),
    })
    .optional(),
  note: arr(Annotation, 20).optional(),
});

export const MedicationStatement = z.object({
  resourceType: z.literal('MedicationStatement'),
  ...base,
  status: z.enum(['active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold', 'unknown', 'not-taken']),
  ...medication,
  contained: Contained.optional(),
  subject: Reference,
  effectiveDateTime: FhirDateTime.optional(),
  effectivePeriod: Period.optional(),
  dateAsserted: FhirDateTime.optional(),
  dosage: arr(Dosage, 10).optional(),
  note: arr(Annotation, 20).optional(),
});

export const AllergyIntolerance = z.object({
  resourceType: z.literal('AllergyIntolerance'),
  ...base,
  clinicalStatus: CodeableConcept.optional(),
  verificationStatus: CodeableConcept.optional(),
  type: z.enum(['allergy', 'intolerance']).optional(),
  category: arr(z.enum(['food', 'medication', 'environment', 'biologic']), 4).optional(),
  criticality: z.enum(['low', 'high', 'unable-to-assess']).optional(),
  code: CodeableConcept.optional(),
  patient: Reference,
  onsetDateTime: FhirDateTime.optional(),
  recordedDate: FhirDateTime.optional(),
  reaction: arr(
    z.object({
      substance: CodeableConcept.optional(),
      manifestation: arr(CodeableConcept, 20).min(1),
      severity: z.enum(['mild', 'moderate', 'severe']).optional(),
    }),
    20,
  ).optional(),
  note: arr(Annotation, 20).optional(),
});

const ReferenceRange = z.object({ low: Quantity.optional(), high: Quantity.optional(), text: str(1024).optional() });
/** An Observation's value and its reading, shared by the observation and each of its components. */
const observationValue = {
  valueQuantity: Quantity.optional(),
  valueString: str(MAX_TEXT).optional(),
  valueCodeableConcept: CodeableConcept.optional(),
  valueBoolean: z.boolean().optional(),
  valueInteger: z.number().int().optional(),
  dataAbsentReason: CodeableConcept.optional(),
  interpretation: arr(CodeableConcept, 10).optional(),
  referenceRange: arr(ReferenceRange, 10).optional(),
};

export const Observation = z.object({
  resourceType: z.literal('Observation'),
  ...base,
  status: z.enum([
    'registered',
    'preliminary',
    'final',
    'amended',
    'corrected',
    'cancelled',
    'entered-in-error',
    'unknown',
  ]),
  category: arr(CodeableConcept, 10).optional(),
  code: CodeableConcept,
  subject: Reference.optional(),
  effectiveDateTime: FhirDateTime.optional(),
  effectivePeriod: Period.optional(),
  issued: FhirDateTime.optional(),
  ...observationValue,
  component: arr(z.object({ code: CodeableConcept, ...observationValue }), 50).optional(),
  note: arr(Annotation, 20).optional(),
});

export const ImagingStudy = z
  .object({
    resourceType: z.literal('ImagingStudy'),
    ...base,
    identifier: arr(Identifier, 10).optional(),
    status: z.enum(['registered', 'available', 'cancelled', 'entered-in-error', 'unknown']),
    modality: arr(Coding, 10).optional(),
    subject: Reference,
    started: FhirDateTime.optional(),
    endpoint: arr(Reference, 10).optional(),
    numberOfSeries: z.number().int().min(0).optional(),
    numberOfInstances: z.number().int().min(0).optional(),
    procedureCode: arr(CodeableConcept, 10).optional(),
    description: str(2000).optional(),
    series: arr(
      z.object({
        uid: FhirDicomUid,
        modality: Coding,
        description: str(2000).optional(),
        bodySite: Coding.optional(),
        instance: arr(
          z.object({ uid: FhirDicomUid, sopClass: Coding, number: z.number().int().min(0).optional() }),
          500,
        ).optional(),
      }),
      100,
    ).optional(),
  })
  .superRefine((study, ctx) => {
    study.identifier?.forEach((id, i) => {
      if (id.system === 'urn:dicom:uid' && !FhirDicomUid.safeParse(id.value ?? '').success) {
        ctx.addIssue({
          code: 'custom',
          path: ['identifier', i, 'value'],
          message: 'a urn:dicom:uid identifier must be a DICOM UID (digits and dots, optionally prefixed urn:oid:)',
          params: { zodCode: 'dicom_uid' },
        });
      }
    });
  });

export const DocumentReference = z.object({
  resourceType: z.literal('DocumentReference'),
  ...base,
  status: z.enum(['current', 'superseded', 'entered-in-error']),
  type: CodeableConcept.optional(),
  subject: Reference.optional(),
  date: z.string().max(64).optional(),
  description: str(2000).optional(),
  content: arr(
    z.object({
      attachment: z.object({
        contentType: str().optional(),
        /** base64; text/plain notes are decoded by the normaliser. Bounded by the request size limit too. */
        data: z
          .string()
          .max(1_000_000)
          .regex(/^[A-Za-z0-9+/=\s]*$/, 'attachment.data must be base64')
          .optional(),
        url: AttachmentUrl.optional(),
        title: str().optional(),
      }),
    }),
    20,
  ).min(1),
});

const KNOWN = {
  Patient,
  Condition,
  Medication,
  MedicationRequest,
  MedicationStatement,
  AllergyIntolerance,
  Observation,
  ImagingStudy,
  DocumentReference,
} as const;
export type KnownResourceType = keyof typeof KNOWN;
export const KNOWN_RESOURCE_TYPES = Object.keys(KNOWN) as KnownResourceType[];

/** A resource of a type this system does not use: kept as a type and id only. */
export const OtherResource = z.object({ resourceType: z.string(), id: z.string().optional() });

export type Patient = z.infer<typeof Patient>;
export type Condition = z.infer<typeof Condition>;
export type Medication = z.infer<typeof Medication>;
export type MedicationRequest = z.infer<typeof MedicationRequest>;
export type MedicationStatement = z.infer<typeof MedicationStatement>;
export type AllergyIntolerance = z.infer<typeof AllergyIntolerance>;
export type Observation = z.infer<typeof Observation>;
export type ImagingStudy = z.infer<typeof ImagingStudy>;
export type DocumentReference = z.infer<typeof DocumentReference>;
export type Dosage = z.infer<typeof Dosage>;
export type CodeableConcept = z.infer<typeof CodeableConcept>;
export type Quantity = z.infer<typeof Quantity>;
export type KnownResource = { [K in KnownResourceType]: z.infer<(typeof KNOWN)[K]> }[KnownResourceType];
export type OtherResource = z.infer<typeof OtherResource>;
export type Resource = KnownResource | OtherResource;

const isKnown = (t: string): t is KnownResourceType => Object.hasOwn(KNOWN, t);

/** Dispatch on resourceType: validate known types precisely, reduce unknown ones to type + id. */
export const Resource = z
  .looseObject({
    resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/, 'resourceType must be a FHIR resource type name'),
  })
  .transform((raw, ctx): Resource => {
    const type = raw.resourceType;
    if (!isKnown(type)) {
      return { resourceType: type, ...(typeof raw.id === 'string' ? { id: raw.id.slice(0, 64) } : {}) };
    }
    const result = KNOWN[type].safeParse(raw);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, params: { zodCode: issue.code } });
    }
    return z.NEVER;
  });

export const BundleEntry = z.object({
  fullUrl: str(2048).optional(),
  resource: Resource,
});

/**
 * A `medicationReference` must name a Medication this case carries: another entry (by its
 * `fullUrl` or `Medication/<id>`) or a contained resource (`#<id>`). Without it the drug is
 * unknown, so the case is refused rather than checked as "unnamed medication".
 */
function checkMedicationReferences(entries: ReadonlyArray<z.infer<typeof BundleEntry>>, ctx: z.RefinementCtx): void {
  const inBundle = new Map<string, string>();
  for (const { fullUrl, resource } of entries) {
    if (fullUrl) inBundle.set(fullUrl, resource.resourceType);
    if (resource.id) inBundle.set(`${resource.resourceType}/${resource.id}`, resource.resourceType);
  }
  entries.forEach(({ resource }, index) => {
    if (resource.resourceType !== 'MedicationRequest' && resource.resourceType !== 'MedicationStatement') return;
    const r = resource as MedicationRequest | MedicationStatement;
    const ref = r.medicationReference?.reference;
    if (ref === undefined) return;
    const found = ref.startsWith('#')
      ? r.contained?.find((c) => c.id === ref.slice(1))?.resourceType
      : inBundle.get(ref);
    if (found === 'Medication') return;
    ctx.addIssue({
      code: 'custom',
      path: ['entry', index, 'resource', 'medicationReference', 'reference'],
      message: found
        ? `medicationReference points at a ${found}, not a Medication`
        : `medicationReference “${ref.slice(0, 100)}” does not resolve to a Medication in this bundle (by fullUrl or Medication/id) or contained in the resource (#id)`,
      params: { zodCode: 'unresolved_medication_reference' },
    });
  });
}

/**
 * How many resources of each kind one case may carry: the checks' cost grows with the pairs of
 * medications, and a case is one patient's current picture, not their whole history. Beyond a
 * limit the submission is refused (400) naming it; docs/api.md lists them.
 */
export const CASE_LIMITS = {
  entries: 2000,
  medications: 300,
  conditions: 500,
  allergies: 200,
  documents: 100,
  imagingStudies: 50,
} as const;
const LIMITED: ReadonlyArray<[keyof typeof CASE_LIMITS, readonly string[]]> = [
  ['medications', ['MedicationRequest', 'MedicationStatement']],
  ['conditions', ['Condition']],
  ['allergies', ['AllergyIntolerance']],
  ['documents', ['DocumentReference']],
  ['imagingStudies', ['ImagingStudy']],
];

export const Bundle = z
  .object({
    resourceType: z.literal('Bundle'),
    id: FhirId.optional(),
    type: z.enum(['collection', 'document', 'transaction', 'batch', 'searchset', 'message', 'history']),
    timestamp: FhirDateTime.optional(),
    entry: z
      .array(BundleEntry)
      .min(1, 'a case bundle needs at least a Patient entry')
      .max(CASE_LIMITS.entries, `a case bundle holds at most ${CASE_LIMITS.entries} entries`),
  })
  .superRefine((bundle, ctx) => {
    if (bundle.entry.length === 0) return; // already reported by min(1)
    const counts = new Map<string, number>();
    for (const e of bundle.entry) counts.set(e.resource.resourceType, (counts.get(e.resource.resourceType) ?? 0) + 1);
    for (const [limit, types] of LIMITED) {
      const n = types.reduce((sum, t) => sum + (counts.get(t) ?? 0), 0);
      if (n > CASE_LIMITS[limit])
        ctx.addIssue({
          code: 'custom',
          path: ['entry'],
          message: `a case holds at most ${CASE_LIMITS[limit]} ${limit} (${types.join(' or ')}); this one has ${n}`,
          params: { zodCode: 'case_limit' },
        });
    }
    checkMedicationReferences(bundle.entry, ctx);
    const patients = bundle.entry
      .map((e, index) => ({ e, index }))
      .filter(({ e }) => e.resource.resourceType === 'Patient');
    if (patients.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['entry'],
        message: `a case bundle must contain exactly one Patient resource (found ${patients.length})`,
        params: { zodCode: 'patient_count' },
      });
      return;
    }
    const { e: patientEntry } = patients[0]!;
    const patientRefs = new Set<string>();
    if (patientEntry.resource.id) patientRefs.add(`Patient/${patientEntry.resource.id}`);
    if (patientEntry.fullUrl) patientRefs.add(patientEntry.fullUrl);
    bundle.entry.forEach((entry, index) => {
      const r = entry.resource as Record<string, unknown>;
      for (const field of ['subject', 'patient'] as const) {
        const ref = (r[field] as { reference?: string } | undefined)?.reference;
        if (ref !== undefined && patientRefs.size > 0 && !patientRefs.has(ref) && /^(Patient\/|urn:uuid:)/.test(ref)) {
          ctx.addIssue({
            code: 'custom',
            path: ['entry', index, 'resource', field, 'reference'],
            message: 'references a patient that is not the Patient in this bundle',
            params: { zodCode: 'foreign_patient_reference' },
          });
        }
      }
    });
  });

export type Bundle = z.infer<typeof Bundle>;
