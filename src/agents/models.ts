/** The chat model for LLM mode: any OpenAI-compatible endpoint through @langchain/openai. */
import { ChatOpenAI } from '@langchain/openai';
import type { Config } from '../config.js';

export function createChatModel(
  model: Extract<Config['model'], { mode: 'llm' }>,
  options: { timeoutMs?: number; maxRetries?: number } = {},
): ChatOpenAI {
  return new ChatOpenAI({
    model: model.model,
    apiKey: model.apiKey ?? 'not-needed',
    temperature: 0,
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 2,
    ...(model.baseUrl ? { configuration: { baseURL: model.baseUrl } } : {}),
  });
}
