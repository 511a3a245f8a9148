/**
 * A local OpenAI-compatible HTTP server (POST /v1/chat/completions) for testing
 * @langchain/openai over real sockets. It answers each request with a tool call produced by
 * `respond` from the request body, records every request, and can be told to fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: string | null }>;
  tools?: Array<{ type: string; function: { name: string; parameters: unknown } }>;
  tool_choice?: unknown;
}

export interface OpenAiFixture {
  baseUrl: string;
  requests: ChatRequestBody[];
  failNext: number;
  close(): Promise<void>;
}

export async function startOpenAiFixture(
  respond: (body: ChatRequestBody) => { name: string; args: unknown },
): Promise<OpenAiFixture> {
  const fixture = { requests: [] as ChatRequestBody[], failNext: 0 };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as ChatRequestBody;
      fixture.requests.push(body);
      if (fixture.failNext > 0) {
        fixture.failNext -= 1;
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'fixture failure', type: 'server_error' } }));
        return;
      }
      const { name, args } = respond(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${fixture.requests.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [
                  {
                    id: `call_${fixture.requests.length}`,
                    type: 'function',
                    function: { name, arguments: JSON.stringify(args) },
                  },
                ],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fixture, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
