/**
 * Start and stop a real PostgreSQL server (the Debian `postgresql` package) for tests and
 * local runs: a fresh cluster in a temporary folder, on a free 127.0.0.1 port, trust auth,
 * one database. As root (CI, containers) it runs as the `postgres` system user, because
 * PostgreSQL refuses to run as root.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redis-server.js';
import { AppError } from '../errors.js';

export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export class PostgresMissingError extends AppError {
  declare readonly code: 'POSTGRES_MISSING';
  constructor(detail: string) {
    super(
      'POSTGRES_MISSING',
      `PostgreSQL is not available (${detail}). Run \`make test\` (it installs the Debian postgresql package), or set DATABASE_URL to an existing server.`,
      false,
    );
  }
}

function binDir(): string {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(base, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return path.dirname(which.stdout.trim());
  throw new PostgresMissingError('no initdb found');
}

export async function startLocalPostgres(database = 'clinical_orchestrator'): Promise<LocalPostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'co-pg-'));
  const dataDir = path.join(dir, 'data');
  const run = (cmd: string, args: string[]) =>
    asRoot ? (['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const) : ([cmd, args] as const);
  if (asRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (ids.status !== 0) throw new PostgresMissingError('running as root but there is no postgres system user');
    const uid = Number(ids.stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const [initCmd, initArgs] = run(path.join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-A',
    'trust',
    '-U',
    'co',
    '--no-sync',
    '-E',
    'UTF8',
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);

  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  const logFile = path.join(dir, 'postgres.log');
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  // pg_ctl daemonises the server and waits (-w) until it accepts connections; stopping goes
  // through pg_ctl too, so no wrapper process (runuser) sits between us and the postmaster.
  const [startCmd, startArgs] = run(pgCtl, ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '30', 'start']);
  const started = spawnSync(startCmd, startArgs, { encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`postgres did not start: ${started.stderr || started.stdout}`);
  const [stopCmd, stopArgs] = run(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']);
  const stopNow = () => {
    if (existsSync(path.join(dataDir, 'postmaster.pid'))) spawnSync(stopCmd, stopArgs, { stdio: 'ignore' });
  };
  process.once('exit', stopNow);

  const create = spawnSync(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'co', database], {
    encoding: 'utf8',
  });
  if (create.status !== 0) throw new Error(`createdb failed: ${create.stderr}`);

  return {
    url: `postgres://co@127.0.0.1:${port}/${database}`,
    port,
    stop() {
      stopNow();
      process.removeListener('exit', stopNow);
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
