/**
 * Fault-injection seams for the crash and fault suites. Code where a crash matters calls
 * `faults.at(point, detail)` at a named point; the default hooks do nothing. A test process
 * passes its own hooks (for example one that SIGKILLs the process at a chosen point) through the
 * process options instead of patching library prototypes, so the same seams work for every
 * checkpointer (SQLite and Postgres) and every queue implementation.
 */
import type { BaseCheckpointSaver } from '@langchain/langgraph';

export type FaultPoint =
  /** The case record says awaiting_review; its review job is about to be added. */
  | 'review.before-enqueue'
  /** A resume job was taken and the case moved to running; the graph is about to resume. */
  | 'resume.before-graph'
  /** The checkpointer saved a task's writes; the next checkpoint is not saved yet. */
  | 'checkpoint.writes-saved';

export interface FaultDetail {
  caseId?: string | undefined;
  revision?: number | undefined;
  /** checkpoint.writes-saved: the channels the task wrote. */
  channels?: string[] | undefined;
}

export interface FaultHooks {
  at(point: FaultPoint, detail: FaultDetail): void | Promise<void>;
}

export const NO_FAULTS: FaultHooks = { at: () => undefined };

/** The checkpointer itself, with putWrites reporting each saved task's channels to the hooks. */
export function withCheckpointFaults<T extends BaseCheckpointSaver>(saver: T, hooks: FaultHooks): T {
  if (hooks === NO_FAULTS) return saver;
  return new Proxy(saver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (prop !== 'putWrites' || typeof value !== 'function') return value;
      return async (...args: Parameters<T['putWrites']>) => {
        await (value as T['putWrites']).apply(target, args);
        const [config, writes] = args;
        await hooks.at('checkpoint.writes-saved', {
          caseId: (config.configurable?.thread_id as string | undefined) ?? undefined,
          channels: writes.map(([channel]) => String(channel)),
        });
      };
    },
  });
}
