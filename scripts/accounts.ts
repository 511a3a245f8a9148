// `npm run accounts -- <command>`: manage staff accounts (stored with scrypt-hashed passwords in
// the accounts database: DATA_DIR/accounts.sqlite, or Postgres when DATABASE_URL is set).
//
//   add <name> --roles reviewer[,kb_editor,ops,admin] [--generate]   password from stdin, or generated and printed once
//   list
//   set-password <name> [--generate]                                  ends the account's sessions when the API next checks
//   roles <name> <role,role>
//   disable <name> | enable <name>
//
// With REDIS_URL set, every change is recorded in the security log (actor `cli:<os user>`);
// without it the script says the change went unrecorded there.
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { SecurityLog } from '../src/audit/security-log.js';
import { createFailFastRedis } from '../src/queues/connection.js';
import { parseArgs } from 'node:util';
import { AccountError, AccountStore } from '../src/auth/accounts.js';
import { loadConfigOrExit, tokenNames } from '../src/config.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { roles: { type: 'string' }, generate: { type: 'boolean' } },
});
const [command, name, extra] = positionals;
const usage =
  'usage: npm run accounts -- add <name> --roles reviewer[,ops,...] [--generate] | list | set-password <name> [--generate] | roles <name> <roles> | disable <name> | enable <name>';

async function password(): Promise<string> {
  if (values.generate) {
    const generated = randomBytes(18).toString('base64url');
    process.stdout.write(`generated password (shown once): ${generated}\n`);
    return generated;
  }
  if (process.stdin.isTTY)
    throw new Error(
      'pipe the password on standard input (e.g. `read -s P; printf %s "$P" | npm run accounts -- add …`) or pass --generate',
    );
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const config = loadConfigOrExit(process.env);
const store = await AccountStore.open({
  databaseUrl: config.database.url,
  sqlitePath: config.accounts.sqlitePath,
  reservedNames: tokenNames(config),
});
/** Record an account change in the security log when Redis is configured. */
async function record(event: 'account_created' | 'account_changed', detail: Record<string, string | boolean>) {
  if (!config.redis.url) {
    process.stderr.write('REDIS_URL is unset: this change is not in the security log\n');
    return;
  }
  const redis = createFailFastRedis(config.redis.url, 'accounts-cli');
  try {
    await new SecurityLog(redis, config.redis.keyPrefix, config.audit.chainKey).append({
      event,
      actor: `cli:${userInfo().username}`,
      actorType: 'system',
      address: null,
      detail,
    });
  } finally {
    redis.disconnect();
  }
}

try {
  const roles = (s: string | undefined) =>
    (s ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
  const show = (a: { name: string; roles: string[]; disabled: boolean }) =>
    `${a.name}\t${a.roles.join(',')}\t${a.disabled ? 'disabled' : 'enabled'}`;
  switch (command) {
    case 'add':
      if (!name || !values.roles) throw new AccountError('ACCOUNT_INVALID', usage);
      process.stdout.write(`${show(await store.create(name, await password(), roles(values.roles), 'cli'))}\n`);
      await record('account_created', { account: name, roles: roles(values.roles).join('+') });
      break;
    case 'list':
      for (const a of await store.list()) process.stdout.write(`${show(a)}\n`);
      break;
    case 'set-password':
      if (!name) throw new AccountError('ACCOUNT_INVALID', usage);
      process.stdout.write(`${show(await store.setPassword(name, await password()))}\n`);
      await record('account_changed', { account: name, changed: 'password' });
      break;
    case 'roles':
      if (!name || !extra) throw new AccountError('ACCOUNT_INVALID', usage);
      process.stdout.write(`${show(await store.setRoles(name, roles(extra)))}\n`);
      await record('account_changed', { account: name, changed: 'roles', roles: roles(extra).join('+') });
      break;
    case 'disable':
    case 'enable':
      if (!name) throw new AccountError('ACCOUNT_INVALID', usage);
      process.stdout.write(`${show(await store.setDisabled(name, command === 'disable'))}\n`);
      await record('account_changed', { account: name, changed: 'disabled', disabled: command === 'disable' });
      break;
    default:
      throw new AccountError('ACCOUNT_INVALID', usage);
  }
} catch (err) {
  process.stderr.write(`accounts: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
} finally {
  await store.close();
}
