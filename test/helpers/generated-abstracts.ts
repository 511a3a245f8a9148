/**
 * Generated abstract-sized documents for the literature benchmarks and index tests. They are
 * not real records: PMIDs start at 900000000, every title starts with GENERATED, the journal
 * is "Generated Journal". Deterministic for a seed. Clinical words are rare, as in real
 * abstracts (each appears in a few per cent of documents); the rest is Zipf-like filler.
 */
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';

export const VOCAB = [
  'metformin',
  'warfarin',
  'kidney',
  'chronic',
  'disease',
  'diabetes',
  'heart',
  'failure',
  'hypertension',
  'pneumonia',
  'amoxicillin',
  'penicillin',
  'allergy',
  'bleeding',
  'anticoagulant',
  'nsaid',
  'ibuprofen',
  'gout',
  'allopurinol',
  'statin',
  'atrial',
  'fibrillation',
  'stroke',
  'dose',
  'renal',
  'impairment',
  'elderly',
  'trial',
  'cohort',
  'outcome',
  'mortality',
  'risk',
  'safety',
  'efficacy',
  'patients',
  'treatment',
  'therapy',
  'guideline',
  'randomized',
  'placebo',
  'adverse',
  'events',
  'hospital',
  'admission',
];
const FILLER = Array.from({ length: 30_000 }, (_, i) => `w${i.toString(36)}`);
const TYPES = [
  'Journal Article',
  'Randomized Controlled Trial',
  'Meta-Analysis',
  'Practice Guideline',
  'Review',
  'Observational Study',
];

/** A small linear congruential generator, so runs are repeatable. */
export function seededRandom(seed = 42): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

export function* generateAbstracts(n: number, rand = seededRandom()): Generator<PubmedRecord> {
  const word = () =>
    rand() < 0.02 ? VOCAB[Math.floor(rand() * VOCAB.length)]! : FILLER[Math.floor(rand() ** 3 * FILLER.length)]!;
  const sentence = (k: number) => Array.from({ length: k }, word).join(' ');
  for (let i = 0; i < n; i++) {
    yield {
      pmid: String(900_000_000 + i),
      title: `GENERATED ${sentence(10)}`,
      abstract: Array.from({ length: 8 }, () => `${sentence(20)}.`).join(' '),
      journal: 'Generated Journal',
      year: 1990 + Math.floor(rand() * 36),
      authors: ['Generated A'],
      publicationTypes: [TYPES[Math.floor(rand() * TYPES.length)]!],
      mesh: rand() < 0.8 ? ['Humans', VOCAB[Math.floor(rand() * VOCAB.length)]!] : ['Animals'],
    };
  }
}

/** Queries of the shape the graph sends: a two-word main concept, a second concept, humans, a date range. */
export function generateQueryTerms(n: number, rand = seededRandom(7)): string[][] {
  const pick = () => VOCAB[Math.floor(rand() * VOCAB.length)]!;
  return Array.from({ length: n }, () => [`${pick()} ${pick()}`, pick()]);
}
