/**
 * Reading a case file for `co case run` and `co case submit`: a FHIR Bundle (the question then
 * comes from --question), a case submission (`{ caseId?, question, bundle, … }`, the body of
 * POST /v1/cases) or an example file (`{ submission: … }`, examples/cases). The submission is
 * validated by the same code as the API (`parseSubmission`); problems are reported with JSON
 * Pointers into the file as given.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CaseSubmission, CaseSubmissionInput } from '../domain/case.js';
import { CaseValidationError } from '../domain/validation.js';
import { parseSubmission } from '../queues/producer.js';
import { invalidInput } from './errors.js';

export interface CaseFile {
  file: string;
  /** What the file held: a bare Bundle, a submission, or an example wrapping a submission. */
  shape: 'bundle' | 'submission' | 'example';
  /** The submission as it would be sent to the API (caseId filled in when the file had none). */
  input: CaseSubmissionInput;
  /** The same, validated by parseSubmission. */
  submission: CaseSubmission;
  /**
   * For an example file: the moment the case is set at (`asOf`, ISO), so record dates keep their
   * meaning (a result "21 days before the case") whenever the file is run; null = now.
   */
  asOf: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const kindOf = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`);

/** A case id from the content, so the same file gets the same id (resubmitting it is idempotent). */
function derivedCaseId(question: string, bundle: unknown): string {
  return `cli-${createHash('sha256')
    .update(JSON.stringify([question, bundle]))
    .digest('hex')
    .slice(0, 16)}`;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalidInput('FILE_NOT_FOUND', `${file}: no such file`);
    if (code === 'EISDIR') throw invalidInput('FILE_UNREADABLE', `${file}: is a directory, not a JSON file`);
    throw invalidInput('FILE_UNREADABLE', `${file}: cannot be read (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidInput('NOT_JSON', `${file}: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

function asOfOf(json: Record<string, unknown>, file: string): string | null {
  if (json.asOf === undefined || !isObject(json.submission)) return null;
  const at = typeof json.asOf === 'string' ? Date.parse(json.asOf) : Number.NaN;
  if (!Number.isFinite(at))
    throw invalidInput('CASE_INVALID', `${file}: asOf must be an ISO date-time`, [
      { pointer: '/asOf', code: 'invalid_date', message: 'asOf must be an ISO date-time, e.g. 2026-12-01T09:00:00Z' },
    ]);
  return new Date(at).toISOString();
}

const pickCallback = (raw: Record<string, unknown>) =>
  typeof raw.callbackUrl === 'string' ? { callbackUrl: raw.callbackUrl } : {};

/** Read, recognise and validate one case file. Throws CliError (exit 2) naming the problem. */
export async function readCaseFile(
  file: string,
  options: {
    question?: string | undefined;
    callbackHostAllowlist?: readonly string[];
    /** False: leave the callback URL's host screening to the server (case submit: its allowlist is not known here). */
    screenCallbackUrl?: boolean;
  } = {},
): Promise<CaseFile> {
  const json = await readJson(file);
  if (!isObject(json))
    throw invalidInput(
      'NOT_A_CASE',
      `${file}: expected a FHIR Bundle or a case submission object, got ${kindOf(json)}`,
    );

  let shape: CaseFile['shape'];
  let raw: Record<string, unknown>;
  /** Where the submission sits in the file, to turn the validator's pointers into pointers into the file. */
  let base: string;
  if (json.resourceType === 'Bundle') {
    if (!options.question)
      throw invalidInput(
        'QUESTION_REQUIRED',
        `${file}: is a bare FHIR Bundle; give the clinical question with --question "…"`,
      );
    shape = 'bundle';
    raw = { question: options.question, bundle: json };
    base = '/bundle';
  } else if (typeof json.resourceType === 'string') {
    throw invalidInput(
      'NOT_A_CASE',
      `${file}: is a FHIR ${json.resourceType.slice(0, 64)} resource, not a Bundle (a case is a Bundle with one Patient)`,
    );
  } else if (isObject(json.submission) && 'bundle' in json.submission) {
    shape = 'example';
    raw = { ...json.submission };
    base = '/submission';
  } else if ('bundle' in json) {
    shape = 'submission';
    raw = { ...json };
    base = '';
  } else {
    throw invalidInput(
      'NOT_A_CASE',
      `${file}: neither a FHIR Bundle (resourceType "Bundle") nor a case submission (an object with "question" and "bundle")`,
    );
  }
  if (options.question !== undefined) raw.question = options.question;
  if (raw.caseId === undefined && (shape === 'bundle' || typeof raw.question === 'string'))
    raw.caseId = derivedCaseId(String(raw.question), raw.bundle);

  try {
    const screened = options.screenCallbackUrl === false ? { ...raw, callbackUrl: undefined } : raw;
    const parsed = parseSubmission(screened, options.callbackHostAllowlist ?? []);
    const submission = options.screenCallbackUrl === false ? { ...parsed, ...pickCallback(raw) } : parsed;
    return { file, shape, input: raw as CaseSubmissionInput, submission, asOf: asOfOf(json, file) };
  } catch (err) {
    if (!(err instanceof CaseValidationError)) throw err;
    const issues = err.issues.map((i) => ({
      ...i,
      pointer: shape === 'bundle' ? i.pointer.replace(/^\/bundle/, '') : `${base}${i.pointer}`,
    }));
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem(s))` : '';
    throw invalidInput('CASE_INVALID', `${file}: invalid case: ${issues[0]?.message ?? 'rejected'}${more}`, issues);
  }
}
