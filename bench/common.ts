/** Helpers shared by the benchmarks that run the stack as separate processes. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { fetch as undiciFetch, type Pool } from 'undici';
import { ClinicalOrchestratorClient } from '../src/client/index.js';
import { spawnTs, type SpawnOptions, type Spawned } from '../test/helpers/processes.js';
import { DevStack, type DevStackOptions } from '../test/support/stack.js';

export const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Memory use once garbage is collected (run node with --expose-gc). ArrayBuffer backing stores are
 * released by a background task after a GC, so wait for it before the second collection.
 */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  global.gc?.();
  await new Promise((r) => setTimeout(r, 1000));
  global.gc?.();
  return process.memoryUsage();
}

export const progressFor = (name: string) => (msg: string) => process.stderr.write(`[${name}] ${msg}\n`);

export interface RoundResult {
  n: number;
  seconds: number;
  throughputPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** CPU milliseconds per case spent by each process during the round. */
  cpuMsPerCase?: Record<string, number>;
}

/** User + system CPU time of a process in ms, from /proc (Linux). */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, at 100 ticks/s
  } catch {
    return NaN;
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summarise(latencies: number[], seconds: number): RoundResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: latencies.length,
    seconds: r(seconds),
    throughputPerSec: r(latencies.length / seconds),
    latencyMs: {
      p50: r(percentile(sorted, 50)),
      p99: r(percentile(sorted, 99)),
      max: r(sorted[sorted.length - 1] ?? NaN),
    },
  };
}

/** How the benchmarks run a process: this environment, stderr through, V8 CPU profiles with BENCH_PROFILE_DIR. */
export const BENCH_SPAWN: SpawnOptions = {
  output: 'stderr',
  inheritEnv: true,
  nodeArgs: process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE_DIR] : [],
};

const reportExit = (role: string, code: number | null) => {
  if (code !== 0 && code !== null) process.stderr.write(`[bench] ${role} exited with ${code}\n`);
};

/** Run a TypeScript entry point that is not part of a stack (e.g. the raw BullMQ worker). */
export function spawnEntry(entry: string, env: Record<string, string>): Spawned {
  const proc = spawnTs(entry, env, BENCH_SPAWN);
  void proc.exited.then(({ code }) => reportExit(entry, code));
  return proc;
}

/** Wait until `count` workers are connected to the queue (BullMQ lists them by client name). */
export async function waitForWorkers(queue: Queue, count = 1, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await queue.getWorkersCount()) < count) {
    if (Date.now() > deadline) throw new Error(`no worker connected to ${queue.name} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The submission of one of the example cases (examples/cases/<file>). */
export function exampleSubmission(file = 'polypharmacy-ckd.json'): Record<string, unknown> {
  return (
    JSON.parse(readFileSync(path.join(ROOT, 'examples/cases', file), 'utf8')) as { submission: Record<string, unknown> }
  ).submission;
}

/** A webhook receiver on 127.0.0.1 that notes the first arrival time of each delivery id. */
export async function startArrivalReceiver(): Promise<{
  delivered: Map<string, number>;
  callbackUrl: string;
  close(): void;
}> {
  const delivered = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-co-delivery-id'] ?? '');
      if (!delivered.has(id)) delivered.set(id, Date.now());
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    delivered,
    callbackUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => void server.close(),
  };
}

/**
 * A benchmark's stack (API, workers), not started yet: its own key prefix, data
 * folder and port, a service token and a reviewer token, signed webhooks allowed to 127.0.0.1,
 * concurrency 16; a redis-server of its own unless `redisUrl` is given. `env` overrides.
 */
export function benchStack(
  name: string,
  options: Pick<DevStackOptions, 'redisUrl' | 'redisDir' | 'appendonly' | 'env' | 'caseWorkers' | 'delivery'> = {},
): Promise<DevStack> {
  return DevStack.open({
    ...options,
    keyPrefix: `${name}${randomBytes(4).toString('hex')}`,
    dataDir: mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`)),
    service: { name },
    staff: { [`${name}-reviewer`]: { roles: ['reviewer'] } },
    // Benchmarks log at warn: no ready lines to wait for.
    waitForWorkers: false,
    spawn: BENCH_SPAWN,
    onExit: reportExit,
    env: {
      WEBHOOK_SECRETS: `${name}:${randomBytes(24).toString('hex')}`,
      CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
      WORKER_CONCURRENCY: '16',
      DELIVERY_CONCURRENCY: '16',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
}

/** A typed client whose requests go through an undici Pool (a fixed number of keep-alive connections). */
export function pooledClient(stack: DevStack, token: string, pool: Pool): ClinicalOrchestratorClient {
  const viaPool = (url: string | URL | Request, init?: RequestInit) =>
    undiciFetch(url as string, { ...(init as object), dispatcher: pool }) as unknown as Promise<Response>;
  return new ClinicalOrchestratorClient({ baseUrl: stack.base, token, fetch: viaPool });
}
