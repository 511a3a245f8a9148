/**
 * What the graph needs from a knowledge base: lookups, safety checks and care-plan reasoning
 * (contracts in knowledge.ts and care-reasoning.ts). Implementations throw ToolError on failure.
 */
import type {
  KbLookupInput,
  KbLookupResult,
  MentionsInput,
  MentionsResult,
  SafetyCheckInput,
  SafetyCheckResult,
} from './knowledge.js';
import type { CareReasoningInput, CareReasoningResult } from './care-reasoning.js';

export interface KnowledgeBaseClient {
  lookup(input: KbLookupInput, signal: AbortSignal): Promise<{ data: KbLookupResult; version: string | null }>;
  check(input: SafetyCheckInput, signal: AbortSignal): Promise<{ data: SafetyCheckResult; version: string | null }>;
  /** Care-plan reasoning (alternatives, dose adjustments, monitoring, guidelines): src/domain/care-reasoning.ts. */
  reason(
    input: CareReasoningInput,
    signal: AbortSignal,
  ): Promise<{ data: CareReasoningResult; version: string | null }>;
  /** Medicines named in statements, with the dose, route and frequency written after them. */
  mentions(input: MentionsInput, signal: AbortSignal): Promise<{ data: MentionsResult; version: string | null }>;
}
