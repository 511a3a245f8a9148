/**
 * HTTPS served by the API, the imaging service and the literature service themselves
 * (TLS_CERT_FILE, TLS_KEY_FILE), with Strict-Transport-Security on every answer, over real
 * sockets on 127.0.0.1 with a certificate made by openssl for this run; and the configuration's
 * refusals (one file without the other, an unreadable file, a file that is not PEM).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadTls, type TlsMaterial } from '../../src/infra/tls.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import { deletePrefix, testConfig, uniquePrefix } from '../helpers/env.js';
import { startImagingService, stopImagingService } from '../helpers/imaging.js';
import { startApi } from '../helpers/stack.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'co-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const CORPUS = path.resolve(import.meta.dirname, '../fixtures/literature/synthetic-pubmed.xml');
let material: TlsMaterial;

beforeAll(() => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  material = loadTls(loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }))!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** GET over HTTPS trusting only this run's certificate: status, HSTS header and body. */
function httpsGet(url: string): Promise<{ status: number; hsts: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: material.cert }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, hsts: res.headers['strict-transport-security'] as string, body }),
        );
      })
      .on('error', reject);
  });
}

/** A plain-HTTP request to an HTTPS port: it must not get an answer. */
function plainGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => resolve(res.statusCode!));
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

const base = (app: FastifyInstance) => `127.0.0.1:${(app.server.address() as AddressInfo).port}`;

describe('HTTPS served by the services themselves', () => {
  it('the API answers over HTTPS with HSTS, and not over plain HTTP', async () => {
    const prefix = uniquePrefix();
    const config = testConfig(prefix, { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
    const api = await startApi(config, undefined, { tls: loadTls(config) });
    try {
      await api.app.listen({ host: '127.0.0.1', port: 0 });
      const res = await httpsGet(`https://${base(api.app)}/healthz`);
      expect(res.status).toBe(200);
      expect(res.hsts).toBe('max-age=31536000; includeSubDomains');
      await expect(plainGet(`http://${base(api.app)}/healthz`)).rejects.toThrow();
      // A certificate the client does not trust is refused by the client, as it should be.
      await expect(
        new Promise((resolve, reject) => https.get(`https://${base(api.app)}/healthz`, resolve).on('error', reject)),
      ).rejects.toThrow(/self[- ]signed|unable to verify/i);
    } finally {
      await api.close();
      await deletePrefix(prefix);
    }
  });

  it('the imaging and literature services answer over HTTPS with HSTS', async () => {
    const imaging = await startImagingService(undefined, 0, { tls: material });
    const { index } = await LiteratureIndex.open(CORPUS, path.join(dir, 'index'));
    const literature = buildLiteratureService(index, { ...material, hstsMaxAgeSeconds: 600 });
    try {
      expect(imaging.base).toMatch(/^https:/);
      const ready = await httpsGet(`${imaging.base}/v2/health/ready`);
      expect([ready.status, JSON.parse(ready.body), ready.hsts]).toEqual([
        200,
        { ready: true },
        'max-age=31536000; includeSubDomains',
      ]);
      await literature.listen({ host: '127.0.0.1', port: 0 });
      const found = await httpsGet(
        `https://${base(literature)}/entrez/eutils/esearch.fcgi?db=pubmed&term=aspirin&retmode=json`,
      );
      expect(found.status).toBe(200);
      expect(JSON.parse(found.body)).toHaveProperty('esearchresult');
      expect(found.hsts).toBe('max-age=600; includeSubDomains');
    } finally {
      await stopImagingService(imaging);
      await literature.close();
      await index.close();
    }
  });

  it('refuses a certificate without a key, an unreadable file and a file that is not PEM', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: certFile })).toThrow(
      /TLS_KEY_FILE: set both TLS_CERT_FILE and TLS_KEY_FILE/,
    );
    expect(() => loadTls(loadConfig({ TLS_CERT_FILE: path.join(dir, 'missing.pem'), TLS_KEY_FILE: keyFile }))).toThrow(
      /TLS_CERT_FILE: cannot read .*missing\.pem \(ENOENT\)/,
    );
    const notPem = path.join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() => loadTls(loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: notPem }))).toThrow(ConfigError);
    expect(() => loadTls(loadConfig({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: notPem }))).toThrow(/not a PEM file/);
  });
});
