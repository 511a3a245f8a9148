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
import type { PatientPhrases } from './types.js';

export type { ChangeReason, NewDose, PatientPhrases } from './types.js';

export const PHRASES: Readonly<Record<PlanLanguage, PatientPhrases>> = { en, 'zh-CN': zhCN };

export function phrasesFor(language: PlanLanguage): PatientPhrases {
  return PHRASES[language];
}
