/**
 * Inputs that make backtracking patterns quadratic: long runs of the characters a pattern
 * repeats, and chains that almost match. Shared by the linearity test and bench/regex.ts.
 */
export const ADVERSARIAL_TEXTS = (n: number): Record<string, string> => ({
  hyphens: '-'.repeat(n),
  letters: 'a'.repeat(n),
  digits: '1'.repeat(n),
  spaces: ' '.repeat(n),
  'digit then spaces': `1${' '.repeat(n)}x`,
  'ID then hyphens': `ID${'-'.repeat(n)}`,
  'ID- chain': 'ID-'.repeat(Math.floor(n / 3)),
  'dotted digits then a letter': `${'1.'.repeat(Math.floor(n / 2))}a`,
  'digit-hyphen chain': '1-'.repeat(Math.floor(n / 2)),
  'letter-dot chain': 'a.'.repeat(Math.floor(n / 2)),
  'weekday chain': 'mon, '.repeat(Math.floor(n / 5)),
  'day-of chain': '3rd of '.repeat(Math.floor(n / 7)),
  'open brackets': '('.repeat(n),
  'age then spaces': `aged${' '.repeat(n)}x`,
});
