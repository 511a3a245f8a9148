/**
 * Redis Cluster safety of the key layout: keys that one Lua script or one MULTI touches must hash
 * to the same slot. The slot is computed as Redis Cluster does (CRC16/XMODEM of the hash tag, mod
 * 16384), so this fails if a key builder loses its tag.
 */
import { describe, expect, it } from 'vitest';
import {
  auditHeadKey,
  auditKey,
  auditOnceKey,
  bullPrefix,
  caseRecordKey,
  claimMutexKey,
  claimsKey,
  QUEUES,
} from '../../src/infra/redis-keys.js';

function crc16(s: string): number {
  let crc = 0;
  for (const byte of Buffer.from(s, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of a key: the first non-empty {…} section if there is one, else the whole key. */
export function slot(key: string): number {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  return crc16(close > open + 1 ? key.slice(open + 1, close) : key) % 16384;
}

describe('Redis Cluster key slots', () => {
  it('computes slots as Redis does', () => {
    // Values from the Redis Cluster specification's reference implementation.
    expect(crc16('123456789')).toBe(0x31c3);
    expect(slot('{user1000}.following')).toBe(slot('{user1000}.followers'));
  });

  it('keeps every key of one case in one slot (the audit-once script and the case-record scripts touch several)', () => {
    for (const id of ['case-1', 'a.b_c-9', 'chaos-x-00042']) {
      const slots = new Set(
        [auditKey('co', id), auditOnceKey('co', id), auditHeadKey('co', id), caseRecordKey('co', id)].map(slot),
      );
      expect(slots.size).toBe(1);
    }
    // …while different cases spread over the cluster.
    expect(new Set(Array.from({ length: 50 }, (_, i) => slot(caseRecordKey('co', `case-${i}`)))).size).toBeGreaterThan(
      40,
    );
  });

  it('keeps every key of one queue in one slot, and the review claims with the review queue', () => {
    for (const q of Object.values(QUEUES))
      expect(slot(`${bullPrefix('co', q)}:${q}:wait`)).toBe(slot(`${bullPrefix('co', q)}:${q}:123:lock`));
    const review = slot(`${bullPrefix('co', QUEUES.review)}:review:active`);
    expect(slot(claimsKey('co'))).toBe(review);
    expect(slot(claimMutexKey('co'))).toBe(review);
  });
});
