/**
 * The project-local redis-server: starts on a free loopback port with its data under a
 * project folder, keeps data across a restart with AOF, and the API's readiness follows it.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalRedis, type LocalRedis } from '../../src/infra/redis-server.js';
import { minimalSubmission } from '../helpers/cases.js';
import { TEST_TOKEN, testConfig, uniquePrefix } from '../helpers/env.js';
import { startApi } from '../helpers/stack.js';

const dataDir = path.resolve('.data', `lifecycle-${uniquePrefix()}`);
let server: LocalRedis | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local redis-server', () => {
  it('runs on 127.0.0.1 with AOF under the given folder and keeps data across a restart', async () => {
    server = await startLocalRedis({ dataDir, appendonly: true });
    expect(server.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'dir')).toEqual(['dir', dataDir]);
    await client.set('durable-key', 'kept');
    const oldPid = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(oldPid);
    // The same client reconnects by itself.
    expect(await client.get('durable-key')).toBe('kept');
    client.disconnect();
  });

  it('readiness is 503 while Redis is down, intake answers 503, and both recover without manual action', async () => {
    const config = testConfig(uniquePrefix(), { REDIS_URL: server!.url });
    const api = await startApi(config);
    try {
      expect((await api.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await server!.stop();
      const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'unavailable', checks: { redis: { status: 'down' } } }); // no host, port or error text
      const intake = await api.app.inject({
        method: 'POST',
        url: '/v1/cases',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        payload: minimalSubmission('down-1'),
      });
      expect(intake.statusCode).toBe(503);
      expect(intake.json()).toMatchObject({ code: 'REDIS_UNAVAILABLE' });

      await server!.restart();
      await expect
        .poll(async () => (await api.app.inject({ method: 'GET', url: '/readyz' })).statusCode, { timeout: 10_000 })
        .toBe(200);
      const retry = await api.app.inject({
        method: 'POST',
        url: '/v1/cases',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        payload: minimalSubmission('down-1'),
      });
      expect(retry.statusCode).toBe(202);
    } finally {
      await api.close();
    }
  });
});
