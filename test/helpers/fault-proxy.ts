/**
 * A fault-injecting HTTP proxy in front of a real service on 127.0.0.1: passes requests through,
 * or makes the service slow, answer 500, answer garbage, or be down (the port refuses
 * connections). Records every request (method, URL, body) so suites can scan what left the process.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ToolError } from '../../src/tools/common.js';
import type { KnowledgeBaseClient } from '../../src/domain/knowledge-client.js';

export type FaultMode = 'pass' | 'slow' | 'error' | 'garbage' | 'down';

export interface FaultProxy {
  url: string;
  mode: FaultMode;
  /** Delay of `slow` answers (ms). */
  slowMs: number;
  requests: Array<{ method: string; url: string; body: string; at: number }>;
  set(mode: FaultMode): Promise<void>;
  close(): Promise<void>;
}

/** Garbage in several shapes: truncated JSON, JSON of the wrong shape, binary, HTML. Cycled. */
const GARBAGE: Array<[string, Buffer]> = [
  ['application/json', Buffer.from('{"esearchresult": {"idlist": ["1", "2"')],
  ['application/json', Buffer.from('{"outputs": "not a list", "model_name": 42, "header": {"Count": null}}')],
  ['application/octet-stream', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 256))],
  ['text/html', Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>')],
  ['application/xml', Buffer.from('<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>')],
];

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let garbage = 0;
  let server: Server | null = null;
  let port = 0;
  const proxy: FaultProxy = {
    url: '',
    mode: 'pass',
    slowMs: 3000,
    requests: [],
    async set(mode) {
      if (mode === 'down' && proxy.mode !== 'down') await stopListening();
      if (mode !== 'down' && proxy.mode === 'down') await listen(port);
      proxy.mode = mode;
    },
    async close() {
      await stopListening();
    },
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      proxy.requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '',
        body: body.toString('utf8'),
        at: Date.now(),
      });
      const mode = proxy.mode;
      if (mode === 'error')
        return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"injected fault"}');
      if (mode === 'garbage') {
        const [type, bytes] = GARBAGE[garbage++ % GARBAGE.length]!;
        return void res.writeHead(200, { 'content-type': type }).end(bytes);
      }
      const forward = () => {
        const out = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
          },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        out.on('error', () => res.writeHead(502).end());
        out.end(body);
      };
      if (mode === 'slow') {
        const t = setTimeout(forward, proxy.slowMs);
        res.on('close', () => clearTimeout(t));
      } else forward();
    });
  };

  async function listen(p: number): Promise<void> {
    server = createServer(handler);
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(p, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
  }

  async function stopListening(): Promise<void> {
    const s = server;
    server = null;
    if (!s) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen(0);
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}

/** A knowledge-base client wrapper with the same fault modes: slow, throwing, garbage answers, or unreachable. */

export function faultyKnowledgeBase(
  inner: KnowledgeBaseClient,
  state: { mode: FaultMode; slowMs: number; calls: number },
): KnowledgeBaseClient {
  const wrap =
    <I, O>(fn: (input: I, signal: AbortSignal) => Promise<O>) =>
    async (input: I, signal: AbortSignal): Promise<O> => {
      state.calls++;
      switch (state.mode) {
        case 'slow':
          await new Promise((r) => setTimeout(r, state.slowMs));
          return fn(input, signal);
        case 'error':
          throw new Error('injected fault: SQLITE_IOERR: disk I/O error');
        case 'garbage':
          return { data: { resolved: 'garbage', findings: [{ severity: 'none' }] }, version: 7 } as unknown as O;
        case 'down':
          throw new ToolError('UNREACHABLE', 'injected fault: knowledge base database unreachable', true);
        default:
          return fn(input, signal);
      }
    };
  return {
    lookup: wrap(inner.lookup.bind(inner)),
    check: wrap(inner.check.bind(inner)),
    reason: wrap(inner.reason.bind(inner)),
    mentions: wrap(inner.mentions.bind(inner)),
  };
}
