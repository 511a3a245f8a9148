/**
 * Start and stop a real `redis-server` (the Debian package) on a free 127.0.0.1 port, with
 * its data under a project-local folder. Used by the tests and the demo when REDIS_URL is
 * unset. Never a mock: this is the same server production runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AppError } from '../errors.js';

export interface LocalRedis {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number | undefined;
  /** Graceful stop (SIGTERM: Redis flushes its AOF before exiting). */
  stop(): Promise<void>;
  /** Stop, then start again on the same port and data folder. */
  restart(): Promise<void>;
}

export interface LocalRedisOptions {
  dataDir: string;
  /** AOF persistence (appendfsync everysec). The demo uses it; throwaway test servers need not. */
  appendonly?: boolean;
  port?: number;
}

export class RedisServerMissingError extends AppError {
  declare readonly code: 'REDIS_SERVER_MISSING';
  constructor() {
    super(
      'REDIS_SERVER_MISSING',
      'redis-server is not installed. Run `make test` or `make demo` (they install it with apt-get), ' +
        'or install it yourself (`sudo apt-get install redis-server`), or set REDIS_URL to an existing Redis.',
      false,
    );
  }
}

export function findRedisServer(): string {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  if (which.status === 0 && found) return found;
  throw new RedisServerMissingError();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffer = '';
    socket.setTimeout(500);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      if (buffer.includes('\r\n')) {
        socket.destroy();
        resolve(buffer.startsWith('+PONG'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  const binary = findRedisServer();
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  const launch = async () => {
    const logFd = openSync(path.join(dataDir, 'redis.log'), 'a');
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--dir',
      dataDir,
      '--daemonize',
      'no',
      '--save',
      '',
      '--appendonly',
      options.appendonly ? 'yes' : 'no',
      '--appendfsync',
      'everysec',
      // BullMQ requires that Redis never evicts its keys.
      '--maxmemory-policy',
      'noeviction',
    ];
    const proc = spawn(binary, args, { stdio: ['ignore', logFd, logFd], detached: false });
    closeSync(logFd);
    child = proc;
    let exitedEarly = false;
    exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        exitedEarly = true;
        resolve();
      }),
    );
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`redis-server exited during start-up; see ${path.join(dataDir, 'redis.log')}`);
        return ping(port);
      },
      10_000,
      `redis-server on port ${port}`,
    );
  };

  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dataDir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      await stop();
      process.removeListener('exit', killOnExit);
    },
    async restart() {
      await stop();
      await launch();
    },
  };
}
