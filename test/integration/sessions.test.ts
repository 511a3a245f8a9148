/**
 * Staff sessions on real Redis with a controlled clock: the idle timeout (HIPAA automatic
 * logoff), activity restarting it, background requests not, the absolute lifetime capping it,
 * the Redis key expiring with the session, and an ended session never brought back by a touch.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/auth/sessions.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/env.js';

const prefix = uniquePrefix();
let redis: Redis;
let now = Date.parse('2026-12-06T09:00:00Z');
const clock = () => now;
const MIN = 60_000;

beforeAll(() => {
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  await deletePrefix(prefix);
  await redis.quit();
});

const keyTtl = async () => {
  const keys = await redis.keys(`${prefix}:session:*`);
  return Math.max(...(await Promise.all(keys.map((k) => redis.ttl(k)))));
};

describe('SessionStore', () => {
  it('ends a session after the idle time without activity, and activity restarts the clock', async () => {
    const store = new SessionStore(redis, prefix, { ttlSeconds: 8 * 3600, idleSeconds: 15 * 60 }, clock);
    const { token, session } = await store.create('dr-idle');
    expect(session.idleExpiresAt).toBe(new Date(now + 15 * MIN).toISOString());
    expect(await keyTtl()).toBe(15 * 60);

    now += 10 * MIN;
    expect((await store.get(token))!.idleExpiresAt).toBe(new Date(now + 15 * MIN).toISOString());
    now += 14 * MIN; // 24 min after sign-in, 14 after the last activity
    const background = await store.get(token, { activity: false });
    expect(background!.lastSeenAt).toBe(new Date(now - 14 * MIN).toISOString());
    now += 2 * MIN; // 16 min after the last activity: background requests did not keep it alive
    expect(await store.get(token, { activity: false })).toBeNull();
    expect(await store.get(token)).toBeNull();
    expect(await redis.keys(`${prefix}:session:*`)).toEqual([]);
  });

  it('never outlives its absolute lifetime, however active', async () => {
    const store = new SessionStore(redis, prefix, { ttlSeconds: 30 * 60, idleSeconds: 15 * 60 }, clock);
    const { token } = await store.create('dr-busy');
    for (let i = 0; i < 5; i++) {
      now += 5 * MIN;
      expect(await store.get(token)).not.toBeNull();
    }
    // 25 min in: the idle end is capped at the absolute end, 5 min away.
    expect(Date.parse((await store.get(token, { activity: false }))!.idleExpiresAt) - now).toBe(5 * MIN);
    expect(await keyTtl()).toBeLessThanOrEqual(5 * 60);
    now += 5 * MIN;
    expect(await store.get(token)).toBeNull();
  });

  it('an ended session stays ended', async () => {
    const store = new SessionStore(redis, prefix, { ttlSeconds: 3600, idleSeconds: 900 }, clock);
    const { token } = await store.create('dr-gone');
    await store.destroy(token);
    expect(await store.get(token)).toBeNull();
    expect(await redis.keys(`${prefix}:session:*`)).toEqual([]);
  });

  it('treats a session written before idle timeouts existed as last active at its creation', async () => {
    const store = new SessionStore(redis, prefix, { ttlSeconds: 3600, idleSeconds: 900 }, clock);
    const { token } = await store.create('dr-old');
    const [key] = await redis.keys(`${prefix}:session:*`);
    const legacy = {
      account: 'dr-old',
      createdAt: new Date(now - 20 * MIN).toISOString(),
      expiresAt: new Date(now + 40 * MIN).toISOString(),
    };
    await redis.set(key!, JSON.stringify(legacy), 'EX', 3600);
    expect(await store.get(token)).toBeNull();
    await redis.del(key!);
  });
});
