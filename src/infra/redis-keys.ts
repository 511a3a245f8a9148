/**
 * The Redis key layout: queue names and their Cluster hash tags, and the keys of case records,
 * audit logs, decisions, claims and metrics. It imports nothing, so every layer that touches Redis
 * (src/cases, src/queues, src/metrics, src/server) can share it without depending on each other.
 * Everything else about a queue (job names, data schemas, job ids, construction, producers,
 * worker options) is in its module under src/queues: cases.ts, review.ts, delivery.ts,
 * dead-letter.ts.
 *
 * Every key starts with the configured KEY_PREFIX. Each BullMQ queue gets its own hash tag
 * (`{co:cases}`), so all keys of one queue share a Redis Cluster slot (BullMQ's Lua scripts
 * need that) while different queues can live on different shards. Case records use a hash
 * tag on the case id, so per-case keys stay together and cases spread across the cluster.
 */
export const QUEUES = { cases: 'cases', review: 'review', delivery: 'delivery', deadLetter: 'dead-letter' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The BullMQ `prefix` option for a queue: a Cluster hash tag per queue. */
export function bullPrefix(keyPrefix: string, queue: QueueName): string {
  return `{${keyPrefix}:${queue}}`;
}

export function caseRecordKey(keyPrefix: string, caseId: string): string {
  return `${keyPrefix}:case:{${caseId}}`;
}

/** The append-only audit log of a case (a Redis Stream), in the case's hash slot. */
export function auditKey(keyPrefix: string, caseId: string): string {
  return `${keyPrefix}:audit:{${caseId}}`;
}

/** Which audit milestones of a case have been written (a hash used by AuditLog.appendOnce), in the case's hash slot. */
export function auditOnceKey(keyPrefix: string, caseId: string): string {
  return `${keyPrefix}:audit-once:{${caseId}}`;
}

/** The head (`<seq> <hash>`) of a case's hash-chained audit stream, in the case's hash slot. */
export function auditHeadKey(keyPrefix: string, caseId: string): string {
  return `${keyPrefix}:audit-head:{${caseId}}`;
}

/** The hash-chained security log (sign-ins, failed sign-ins, account changes) and its head, in one slot. */
export function securityAuditKeys(keyPrefix: string): { stream: string; head: string; once: string } {
  return {
    stream: `{${keyPrefix}:security}:audit`,
    head: `{${keyPrefix}:security}:audit-head`,
    once: `{${keyPrefix}:security}:audit-once`,
  };
}

/** Marks that an actor's view of a case was audited recently (so polling writes one entry per window). */
export function viewedKey(keyPrefix: string, caseId: string, actor: string): string {
  return `${keyPrefix}:viewed:{${caseId}}:${actor}`;
}

/** Review claims (job id → reviewer and lock token), in the review queue's hash slot. */
export function claimsKey(keyPrefix: string): string {
  return `{${keyPrefix}:review}:claims`;
}

/** Serialises claims of specific review items with claims of the next one. */
export function claimMutexKey(keyPrefix: string): string {
  return `{${keyPrefix}:review}:claim-mutex`;
}

/** Counters and histograms shared by every process, rendered by GET /metrics. */
export function metricsKey(keyPrefix: string): string {
  return `{${keyPrefix}:metrics}`;
}
