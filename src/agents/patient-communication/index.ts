/**
 * Patient communication: plain-language explanations of each proposed change (what changes,
 * why, what to watch for), in English and Simplified Chinese. The wording lives in one file per
 * language (en.ts, zh-CN.ts) and is reviewed like code. It states nothing beyond the facts the
 * statement cites: the reason is the kind of finding the knowledge base raised, the new drug or
 * dose is the one the reasoning checked, the tests are the ones its monitoring facts name.
 * Aimed at a 6th–8th grade reading level (the English is checked by a readability test).
 */
import type { PlanLanguage } from '../../domain/plan.js';
import { en } from './en.js';
import { zhCN } from './zh-CN.js';

/** Why a drug is changed, as the knowledge-base finding put it (a patient is told the kind, not the mechanism). */
export type ChangeReason = 'allergy' | 'interaction' | 'kidney' | 'condition' | 'age' | 'dose' | 'other';

export interface NewDose {
  strength: number | null;
  unit: string;
  timesPerDay: number | null;
  max: number | null;
  per: 'dose' | 'day' | 'week';
}

export interface PatientPhrases {
  /** Replace `drug` with one of `alternatives` (already in the patient's language). */
  switchDrug(p: { drug: string; alternatives: string[]; reason: ChangeReason; other: string | null }): string;
  /** No checked alternative: the drug needs a review with the prescriber. */
  reviewDrug(p: { drug: string; reason: ChangeReason; other: string | null }): string;
  lowerDose(p: { drug: string; dose: NewDose; kidney: boolean }): string;
  stopDuplicate(p: { stop: string; keep: string }): string;
  /** Tests to expect, already named in the patient's language. */
  tests(p: { tests: string[] }): string;
  /** A test name (knowledge-base name) in plain words. */
  testName(name: string): string;
  closing(): string;
}

export const PHRASES: Readonly<Record<PlanLanguage, PatientPhrases>> = { en, 'zh-CN': zhCN };

export function phrasesFor(language: PlanLanguage): PatientPhrases {
  return PHRASES[language];
}
