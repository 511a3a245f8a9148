/** A local webhook receiver on 127.0.0.1 that records what it gets, verifies signatures and dedupes on the delivery id. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/delivery/webhook.js';

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  signatureValid: boolean;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Distinct delivery ids and how often each arrived. */
  byDeliveryId: Map<string, number>;
  /** Answer this status to the next `count` requests (then 200). */
  fail(status: number, count: number): void;
  close(): Promise<void>;
}

export async function startReceiver(secret: string, path = '/hooks/care-plans'): Promise<Receiver> {
  const received: Received[] = [];
  const byDeliveryId = new Map<string, number>();
  let failing = { status: 200, count: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const ts = String(req.headers['x-co-timestamp'] ?? '');
      const sig = String(req.headers['x-co-signature'] ?? '');
      received.push({ headers: req.headers, body, signatureValid: verifySignature(body, ts, sig, secret) });
      if (req.url !== path) return res.writeHead(404).end();
      if (failing.count > 0) {
        failing.count--;
        return res.writeHead(failing.status).end('not now');
      }
      const id = String(req.headers['x-co-delivery-id'] ?? '');
      byDeliveryId.set(id, (byDeliveryId.get(id) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    byDeliveryId,
    fail(status, count) {
      failing = { status, count };
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
