/** The chat model for LLM mode: any OpenAI-compatible endpoint through @langchain/openai. */
import { ChatOpenAI } from '@langchain/openai';
import type { Config } from '../config.js';

/** Time-out, retries and output bound come from configuration (OPENAI_TIMEOUT_MS, OPENAI_MAX_RETRIES, OPENAI_MAX_TOKENS). */
export function createChatModel(model: Extract<Config['model'], { mode: 'llm' }>): ChatOpenAI {
  return new ChatOpenAI({
    model: model.model,
    apiKey: model.apiKey ?? 'not-needed',
    temperature: 0,
    timeout: model.timeoutMs,
    maxRetries: model.maxRetries,
    maxTokens: model.maxTokens,
    ...(model.baseUrl ? { configuration: { baseURL: model.baseUrl } } : {}),
  });
}
