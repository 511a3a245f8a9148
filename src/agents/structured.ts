/**
 * Ask a chat model for structured output through tool calling, and validate it with zod.
 * Works with any OpenAI-compatible endpoint (and with scripted test models). An invalid answer
 * (no tool call, malformed JSON, schema violations) is sent back once with the exact problem;
 * a second invalid answer is reported, never used.
 */
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { AIMessage } from '@langchain/core/messages';
import { HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { z } from 'zod';

export interface StructuredTool<T extends z.ZodType> {
  name: string;
  description: string;
  /** Validates the answer. */
  schema: T;
  /** What the model is shown, when stricter than what is accepted (defaults to `schema`). */
  advertised?: z.ZodType;
}

export type StructuredResult<T> =
  { ok: true; value: T; attempts: number } | { ok: false; error: string; attempts: number };

function argsOf(message: AIMessage, name: string): { args?: unknown; error?: string } {
  const call = message.tool_calls?.find((c) => c.name === name);
  if (call) return { args: call.args };
  const invalid = message.invalid_tool_calls?.find((c) => c.name === name);
  // The parser's message can quote the arguments: the model's own text never goes into an error.
  if (invalid) return { error: `the ${name} arguments are not valid JSON` };
  const text = typeof message.content === 'string' ? message.content : '';
  const json = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1] ?? text;
  try {
    return { args: JSON.parse(json) };
  } catch {
    return { error: `no ${name} tool call and no JSON in the answer` };
  }
}

export async function invokeStructured<T extends z.ZodType>(
  model: BaseChatModel,
  messages: BaseMessage[],
  tool: StructuredTool<T>,
  maxAttempts = 2,
): Promise<StructuredResult<z.output<T>>> {
  if (!model.bindTools) return { ok: false, error: 'the model does not support tool calling', attempts: 0 };
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.advertised ?? tool.schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  const bound = model.bindTools(
    [{ type: 'function', function: { name: tool.name, description: tool.description, parameters } }],
    { tool_choice: { type: 'function', function: { name: tool.name } } },
  );
  let conversation = [...messages];
  let error = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let reply: AIMessage;
    try {
      reply = await bound.invoke(conversation);
    } catch (err) {
      // The endpoint is down or refused the request (the client has already retried): report, never throw.
      return { ok: false, error: `the model endpoint failed (${endpointFailure(err)})`, attempts: attempt };
    }
    const { args, error: extractError } = argsOf(reply, tool.name);
    if (extractError) error = extractError;
    else {
      const parsed = tool.schema.safeParse(args);
      if (parsed.success) return { ok: true, value: parsed.data, attempts: attempt };
      error = parsed.error.issues
        .slice(0, 10)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
    }
    conversation = [
      ...messages,
      new HumanMessage(
        `Your previous answer was rejected: ${error}. Call ${tool.name} again with arguments that match its schema.`,
      ),
    ];
  }
  return { ok: false, error: boundedError(error), attempts: maxAttempts };
}

/**
 * What went wrong with the endpoint, in words code chose: the HTTP status, a time-out, a refused
 * connection, or the error's class. Never the error's message, which can carry the server's text.
 */
export function endpointFailure(err: unknown): string {
  const e = (err ?? {}) as { status?: unknown; name?: unknown; code?: unknown; message?: unknown };
  if (typeof e.status === 'number') return `HTTP ${e.status}`;
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/timeout|timed out|abort/i.test(`${name} ${message}`)) return 'timed out';
  if (/connect|ECONNREFUSED|ECONNRESET|ENOTFOUND|socket|fetch failed/i.test(`${name} ${String(e.code)} ${message}`))
    return 'could not connect';
  return /^[A-Za-z]{1,60}$/.test(name) ? name : 'unknown error';
}

/** Errors from the model path are cut: they reach plan labels and reviewers. */
const MAX_ERROR = 300;
const boundedError = (error: string) => (error.length > MAX_ERROR ? `${error.slice(0, MAX_ERROR)} …` : error);
