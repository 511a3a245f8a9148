/**
 * The knowledge-base tool's input and output contract. The types are shared contracts of the
 * knowledge subsystem and live in `src/domain/knowledge.ts`; this module names the parts the
 * tool exposes.
 */
export { KbLookupInput, KbLookupResult, SafetyCheckInput, SafetyCheckResult } from '../../domain/knowledge.js';
export type { KnowledgeBaseClient } from '../../domain/knowledge-client.js';
export { CareReasoningInput, CareReasoningResult } from '../../domain/care-reasoning.js';
