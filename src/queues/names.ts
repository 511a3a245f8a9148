/**
 * Queue names, Redis key layout and deterministic job ids.
 *
 * Every key starts with the configured KEY_PREFIX. Each BullMQ queue gets its own hash tag
 * (`{co:cases}`), so all keys of one queue share a Redis Cluster slot (BullMQ's Lua scripts
 * need that) while different queues can live on different shards. Case records use a hash
 * tag on the case id, so per-case keys stay together and cases spread across the cluster.
 */
export const QUEUES = { cases: 'cases', review: 'review' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The BullMQ `prefix` option for a queue: a Cluster hash tag per queue. */
export function bullPrefix(keyPrefix: string, queue: QueueName): string {
  return `{${keyPrefix}:${queue}}`;
}

/** BullMQ job id of a case on the `cases` queue. Never an integer and never contains `:`. */
export function caseJobId(caseId: string): string {
  return `case.${caseId}`;
}

/** BullMQ job id of a review decision's resume job: one per case revision, so a decision resumes once. */
export function resumeJobId(caseId: string, revision: number): string {
  return `resume.${caseId}.r${revision}`;
}

/** BullMQ job id of a review job: case id + revision, so a revision is never queued twice. */
export function reviewJobId(caseId: string, revision: number): string {
  return `review.${caseId}.r${revision}`;
}

export function caseRecordKey(keyPrefix: string, caseId: string): string {
  return `${keyPrefix}:case:{${caseId}}`;
}
