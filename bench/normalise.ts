/**
 * `npm run bench:normalise`: what intake and the graph's first step cost for real records. Over
 * the 40 shared Synthea records (whole-life FHIR bundles, SHARED_DATA_DIR/synthea): per record,
 * the median of BENCH_REPEAT runs (default 7) of validation (`parseSubmission`, the zod FHIR
 * subset) and of normalisation (`normaliseCase`, the PHI-minimised view), against `JSON.parse` of
 * the same bytes measured in the same run as the baseline. JSON on stdout.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normaliseCase } from '../src/clinical/normalise.js';
import { parseSubmission } from '../src/queues/producer.js';
import { SYNTHEA_DIR, SYNTHEA_FILES } from '../test/helpers/synthea.js';
import { percentile } from './common.js';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 7);
const AT = new Date('2026-11-24T12:00:00Z');
const QUESTION = 'Is the current medication list safe, and what needs monitoring?';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
function time<T>(fn: () => T): { ms: number; value: T } {
  const t = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value };
}

if (SYNTHEA_FILES.length === 0) {
  process.stderr.write(`no Synthea records under ${SYNTHEA_DIR}; set SHARED_DATA_DIR\n`);
  process.exit(2);
}
const rows = SYNTHEA_FILES.map((file) => {
  const full = path.join(SYNTHEA_DIR, file);
  const text = readFileSync(full, 'utf8');
  const parse: number[] = [];
  const validate: number[] = [];
  const normalise: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const parsed = time(() => JSON.parse(text) as unknown);
    parse.push(parsed.ms);
    const submission = time(() =>
      parseSubmission({ caseId: `bench-${file.replace(/\D/g, '')}`, question: QUESTION, bundle: parsed.value }, []),
    );
    validate.push(submission.ms);
    normalise.push(time(() => normaliseCase(submission.value, AT)).ms);
  }
  return {
    file,
    bytes: statSync(full).size,
    parseMs: median(parse),
    validateMs: median(validate),
    normaliseMs: median(normalise),
  };
});

const r = (x: number) => Math.round(x * 100) / 100;
const stats = (key: 'parseMs' | 'validateMs' | 'normaliseMs') => {
  const sorted = rows.map((x) => x[key]).sort((a, b) => a - b);
  return { p50: r(percentile(sorted, 50)), p99: r(percentile(sorted, 99)), max: r(sorted.at(-1)!) };
};
const largest = rows.reduce((a, b) => (b.bytes > a.bytes ? b : a));
const total = (key: 'parseMs' | 'validateMs' | 'normaliseMs') => rows.reduce((n, x) => n + x[key], 0);
const out = {
  benchmark: 'normalise-real-records',
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown' },
  settings: {
    records: rows.length,
    repeatPerRecord: REPEAT,
    source: 'Synthea FHIR R4 transaction bundles (shared data)',
  },
  recordBytes: { min: Math.min(...rows.map((x) => x.bytes)), max: largest.bytes },
  baselineJsonParseMs: stats('parseMs'),
  validateMs: stats('validateMs'),
  normaliseMs: stats('normaliseMs'),
  largestRecord: {
    file: largest.file,
    bytes: largest.bytes,
    parseMs: r(largest.parseMs),
    validateMs: r(largest.validateMs),
    normaliseMs: r(largest.normaliseMs),
  },
  ratio: {
    validateOverJsonParse: r(total('validateMs') / total('parseMs')),
    normaliseOverJsonParse: r(total('normaliseMs') / total('parseMs')),
  },
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
