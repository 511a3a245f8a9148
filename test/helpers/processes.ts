import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface Spawned {
  child: ChildProcess;
  /** What the process printed so far (empty unless its output is captured). */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  /**
   * Where the output goes: kept in memory (`capture`, the default: `output()` returns it),
   * stderr passed through and stdout dropped (`stderr`), or appended to a log file.
   */
  output?: 'capture' | 'stderr' | { file: string };
  /** Start from this process's environment (the demo, the benchmarks); by default only PATH and HOME. */
  inheritEnv?: boolean;
  /** Extra Node options before the entry, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/** Run a TypeScript entry point in a real Node process (through tsx). */
export function spawnTs(entry: string, env: Record<string, string>, options: SpawnOptions = {}): Spawned {
  const output = options.output ?? 'capture';
  const base = options.inheritEnv ? process.env : { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path.resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', output === 'stderr' ? 'ignore' : 'pipe', output === 'stderr' ? 'inherit' : 'pipe'],
  });
  let out = '';
  if (output === 'capture') {
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  } else if (output !== 'stderr') {
    const log = createWriteStream(output.file, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

export async function waitForLine(proc: Spawned, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(`process exited before printing ${pattern}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Poll `url` until it answers 2xx. */
export async function waitForHttp(url: string, timeoutMs = 30_000, interval = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** SIGTERM a process and wait for it to exit (SIGKILL after `killAfterMs`, when given). */
export async function stopProcess(proc: Spawned, killAfterMs?: number): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => proc.child.kill('SIGKILL'), killAfterMs);
  await proc.exited;
  clearTimeout(timer);
}
