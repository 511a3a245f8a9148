/**
 * HTTPS served by the API, the imaging service and the literature service themselves, when
 * `TLS_CERT_FILE` and `TLS_KEY_FILE` are set (PEM; the certificate file may hold the chain).
 * Every answer then carries `Strict-Transport-Security` (`HSTS_MAX_AGE_SECONDS`, default one
 * year, 0 to leave it out). Without them the services speak plain HTTP and expect a
 * TLS-terminating proxy in front (docs/operations.md).
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ConfigError, type Config } from '../config.js';

/** What a service needs to serve HTTPS: the certificate and key, and the HSTS max-age to send. */
export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly hstsMaxAgeSeconds: number;
}

/** The certificate and key the configuration names, read now, with its HSTS max-age; null when TLS is not configured. */
export function loadTls(config: Pick<Config, 'http'>): TlsMaterial | null {
  const tls = config.http.tls;
  if (!tls) return null;
  const read = (file: string, name: string, marker: RegExp) => {
    let pem: Buffer;
    try {
      pem = readFileSync(file);
    } catch (err) {
      throw new ConfigError([
        { variable: name, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` },
      ]);
    }
    if (!marker.test(pem.toString('latin1')))
      throw new ConfigError([
        { variable: name, message: `${file} is not a PEM file (expected a "-----BEGIN …-----" block)` },
      ]);
    return pem;
  };
  return {
    cert: read(tls.certFile, 'TLS_CERT_FILE', /-----BEGIN CERTIFICATE-----/),
    key: read(tls.keyFile, 'TLS_KEY_FILE', /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
    hstsMaxAgeSeconds: config.http.hstsMaxAgeSeconds,
  };
}

/** Fastify's `https` option for `material`, or nothing. */
export const httpsOption = (material: TlsMaterial | null | undefined) =>
  material ? { https: { key: material.key, cert: material.cert, minVersion: 'TLSv1.2' as const } } : {};

/** HSTS on every answer of an HTTPS server (browsers ignore it over plain HTTP; it is not sent there). */
export function addHsts(app: FastifyInstance, material: TlsMaterial | null | undefined): void {
  if (!material || material.hstsMaxAgeSeconds <= 0) return;
  const value = `max-age=${material.hstsMaxAgeSeconds}; includeSubDomains`;
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('strict-transport-security', value);
    done(null, payload);
  });
}
