/**
 * A scripted chat model for tests: it answers from a script (one entry per call) and records
 * every message it was sent and every tool it was bound to. Real LangChain message types.
 */
import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';

export type ScriptEntry = AIMessage | ((messages: BaseMessage[]) => AIMessage);

export class ScriptedChatModel extends BaseChatModel {
  readonly calls: Array<{ messages: BaseMessage[]; tools: unknown[] }> = [];
  private boundTools: unknown[] = [];
  private readonly script: ScriptEntry[];

  constructor(script: ScriptEntry[], shared?: { calls: ScriptedChatModel['calls'] }) {
    super({});
    this.script = script;
    if (shared) this.calls = shared.calls;
  }

  _llmType(): string {
    return 'scripted';
  }

  override bindTools(tools: unknown[]): this {
    const bound = new ScriptedChatModel(this.script, { calls: this.calls }) as this;
    bound.boundTools = tools;
    return bound;
  }

  _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls.push({ messages, tools: this.boundTools });
    const entry = this.script.shift();
    if (!entry) return Promise.reject(new Error('the scripted model ran out of answers'));
    const message = typeof entry === 'function' ? entry(messages) : entry;
    return Promise.resolve({
      generations: [{ message, text: typeof message.content === 'string' ? message.content : '' }],
    });
  }
}

export const toolCall = (name: string, args: Record<string, unknown>) =>
  new AIMessage({
    content: '',
    tool_calls: [{ id: `call_${name}_${Math.random().toString(36).slice(2, 8)}`, name, args, type: 'tool_call' }],
  });
export const badToolCall = (name: string, rawArgs: string) =>
  new AIMessage({
    content: '',
    invalid_tool_calls: [{ id: 'call_bad', name, args: rawArgs, error: 'Unexpected token', type: 'invalid_tool_call' }],
  });
