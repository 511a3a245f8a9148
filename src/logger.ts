/**
 * Structured JSON logs (pino). Logs carry ids, codes and counts, never PHI: no names, birth
 * dates, addresses, identifiers or note text. Redaction below is a second line of defence for
 * fields that must never be logged even by mistake; the first line is that call sites log ids.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear in a log object (one or two levels deep). */
export const REDACTED_PATHS = [
  'bundle',
  'submission',
  'question',
  'patient',
  'name',
  'birthDate',
  'address',
  'telecom',
  'identifier',
  'text',
  'note',
  'notes',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.bundle',
  '*.submission',
  '*.question',
  '*.patient',
  '*.name',
  '*.birthDate',
  '*.address',
  '*.telecom',
  '*.identifier',
  '*.note',
  '*.notes',
];

export function createLogger(
  config: Pick<Config, 'logLevel'>,
  component: string,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { component, pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
