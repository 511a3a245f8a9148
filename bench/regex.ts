/**
 * `npm run bench:regex`: the user-facing patterns (the PHI scrubber, the knowledge-base term
 * cleaner, the delivery error's address redaction) on adversarial input (test/helpers/adversarial-text.ts) at two sizes, against prose of
 * the same length in the same run. Linear patterns grow ≈4× from 50k to 200k characters and
 * stay within a small factor of prose; a quadratic one grows ≈16×.
 */
import os from 'node:os';
import { scrubText } from '../src/clinical/normalise.js';
import { withoutAddresses } from '../src/delivery/webhook.js';
import { stripForms } from '../src/knowledge/text.js';
import { ADVERSARIAL_TEXTS } from '../test/helpers/adversarial-text.js';

const SIZES = [50_000, 200_000] as const;
const identifying = { names: ['Ana Wu'], strings: [], birthDate: '1950-03-04' };
const PROSE_WORDS =
  'the patient takes metformin twice daily and reports knee pain since march with stable renal function'.split(' ');
const prose = (n: number) => {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `${PROSE_WORDS[i % PROSE_WORDS.length]} `;
  return s.slice(0, n);
};
const time = (f: () => unknown, rounds = 3) => {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return Math.round(best * 100) / 100;
};

const rows: Record<string, unknown>[] = [];
const base = Object.fromEntries(SIZES.map((n) => [n, time(() => scrubText(prose(n), identifying))]));
for (const name of Object.keys(ADVERSARIAL_TEXTS(10))) {
  const ms = Object.fromEntries(SIZES.map((n) => [n, time(() => scrubText(ADVERSARIAL_TEXTS(n)[name]!, identifying))]));
  const kb = Object.fromEntries(SIZES.map((n) => [n, time(() => stripForms(ADVERSARIAL_TEXTS(n)[name]!))]));
  rows.push({
    input: name,
    scrubMs: ms,
    scrubOverProseAt200k: Math.round((ms[200_000]! / base[200_000]!) * 10) / 10,
    scrubGrowth50kTo200k: Math.round((ms[200_000]! / Math.max(ms[50_000]!, 0.01)) * 10) / 10,
    termCleanerMs: kb,
    addressRedactionMs: Object.fromEntries(
      SIZES.map((n) => [n, time(() => withoutAddresses(ADVERSARIAL_TEXTS(n)[name]!))]),
    ),
  });
}
process.stdout.write(
  `${JSON.stringify({ benchmark: 'regex-linear', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, proseScrubMs: base, rows }, null, 2)}\n`,
);
