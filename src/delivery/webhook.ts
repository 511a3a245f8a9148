/**
 * Webhook delivery of finalized plans.
 *
 * Signing: `X-CO-Signature: v1=<hex>[,v1=<hex>…]`, one HMAC-SHA256 per configured secret over
 * `<X-CO-Timestamp>.<raw body>`, so a receiver verifies with its secret while secrets rotate
 * (configure the new one first, both during the change-over, then drop the old one).
 * `X-CO-Delivery-Id` is stable for a case revision: receivers deduplicate on it.
 *
 * Each service's plans are signed with that service's own secrets (`WEBHOOK_SECRETS` entries
 * `service:secret`); a plan is never sent unsigned, and only to `https:` URLs unless the host is
 * allow-listed (a receiver on the same private network).
 *
 * Server-side request forgery: the host's addresses are checked when the connection is made
 * (the socket's DNS lookup), so a name that resolves to a private, loopback, link-local or
 * metadata address is refused unless the host is allow-listed — also after a DNS change since
 * intake. Redirects are not followed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isNonPublicAddress } from '../domain/callback-url.js';
import { AppError } from '../errors.js';

export type DeliveryFailureReason =
  'http_4xx' | 'http_5xx' | 'network' | 'timeout' | 'forbidden_address' | 'redirect' | 'insecure_url' | 'unsigned';

export class DeliveryError extends AppError {
  constructor(
    readonly reason: DeliveryFailureReason,
    message: string,
    /** False when retrying cannot help (a forbidden address, most 4xx). */
    retryable: boolean,
    /** The HTTP status the callback answered, if it answered. */
    readonly status: number | null = null,
  ) {
    super('DELIVERY_FAILED', message, retryable);
  }
}

const hmac = (secret: string, timestamp: string, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

export function signatureHeader(body: string, timestamp: string, secrets: readonly string[]): string {
  return secrets.map((s) => `v1=${hmac(s, timestamp, body)}`).join(',');
}

/** For receivers (and tests): does any v1 signature match, and is the timestamp within `toleranceSeconds`? */
export function verifySignature(
  body: string,
  timestamp: string,
  header: string,
  secret: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  return header.split(',').some((part) => {
    const m = /^v1=([0-9a-f]{64})$/.exec(part.trim());
    return m ? timingSafeEqual(Buffer.from(m[1]!, 'hex'), expected) : false;
  });
}

/** A socket lookup that refuses non-public addresses for hosts not on the allow-list. */
export function guardedLookup(allowlist: readonly string[]): LookupFunction {
  const allowed = new Set(allowlist.map((h) => h.toLowerCase()));
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      if (!allowed.has(hostname.toLowerCase())) {
        const bad = addresses.find((a) => isNonPublicAddress(a.address));
        if (bad)
          return callback(
            new DeliveryError(
              'forbidden_address',
              `${hostname} resolves to a non-public address (${bad.address}); add it to CALLBACK_HOST_ALLOWLIST to allow it`,
              false,
            ),
            '',
            4,
          );
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new Error(`no address for ${hostname}`), '', 4);
      callback(null, first.address, first.family);
    });
  };
}

export interface PostOptions {
  timeoutMs: number;
  allowlist: readonly string[];
  headers: Record<string, string>;
}

/** POST `body` to `url`. Resolves with the status of a 2xx answer; throws DeliveryError otherwise. */
export function postWebhook(url: string, body: string, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const allowed = options.allowlist.map((h) => h.toLowerCase()).includes(host.toLowerCase());
  if (isIP(host) && !allowed && isNonPublicAddress(host)) {
    return Promise.reject(
      new DeliveryError(
        'forbidden_address',
        `${host} is a non-public address; add it to CALLBACK_HOST_ALLOWLIST to allow it`,
        false,
      ),
    );
  }
  if (target.protocol !== 'https:' && !allowed) {
    return Promise.reject(
      new DeliveryError(
        'insecure_url',
        `${target.protocol} callbacks are refused for ${host}: use https, or add the host to CALLBACK_HOST_ALLOWLIST`,
        false,
      ),
    );
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'clinical-orchestrator-delivery/1',
          ...options.headers,
        },
        lookup: guardedLookup(options.allowlist),
        timeout: options.timeoutMs,
      },
      (res) => {
        res.resume(); // the answer's body is not needed
        const status = res.statusCode ?? 0;
        res.on('end', () => {
          if (status >= 200 && status < 300) resolve(status);
          else if (status >= 300 && status < 400)
            reject(
              new DeliveryError(
                'redirect',
                `the callback answered ${status} (redirects are not followed)`,
                false,
                status,
              ),
            );
          else if (status === 408 || status === 429 || status >= 500)
            reject(new DeliveryError('http_5xx', `the callback answered ${status}`, true, status));
          else reject(new DeliveryError('http_4xx', `the callback answered ${status}`, false, status));
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(new DeliveryError('timeout', `no answer within ${options.timeoutMs} ms`, true)),
    );
    req.on('error', (err) =>
      reject(err instanceof DeliveryError ? err : new DeliveryError('network', err.message, true)),
    );
    req.end(body);
  });
}

/**
 * An error message with its IP addresses (and ports) replaced, for records that services read:
 * a callback's resolved internal addresses are the operator's business, kept in the worker's log.
 * Token by token (whitespace, brackets, commas, quotes), each checked with `isIP`: linear.
 */
export function withoutAddresses(message: string): string {
  return message.replace(/[^\s()<>,;"']+/g, (token) => {
    const bare = token.replace(/[.:]+$/, '');
    const candidates = [bare, bare.replace(/^\[|\](:\d+)?$/g, ''), bare.replace(/:\d{1,5}$/, '')];
    return candidates.some((c) => isIP(c) !== 0) ? `[address]${token.slice(bare.length)}` : token;
  });
}
