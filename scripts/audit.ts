// `npm run audit -- <command>`: the audit's integrity and its durable copy.
//
//   verify [--case ID | --security] [--json]   check every hash chain in Redis and in the records database,
//                                              and that the two agree; exit 1 naming the first break
//   export [--case ID | --security] [--json]   copy new entries into the records database (audit_entries),
//                                              continuing each stream's chain; run it on a schedule
//
// The records database is DATA_DIR/clinical-orchestrator.sqlite, or Postgres at DATABASE_URL.
// AUDIT_CHAIN_KEY must be the key the API and workers use. Exit codes: 0 ok, 1 a chain is broken
// or the copies disagree, 2 usage or configuration.
import { parseArgs } from 'node:util';
import { AuditArchive, type StreamReport } from '../src/audit/archive.js';
import { openRecordsDatabase } from '../src/records/database.js';
import { SECURITY_STREAM } from '../src/audit/security-log.js';
import { loadConfigOrExit, requireRedisUrl } from '../src/config.js';
import { createFailFastRedis } from '../src/queues/connection.js';

const usage = 'usage: npm run audit -- verify|export [--case ID | --security] [--json]';

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { case: { type: 'string' }, security: { type: 'boolean' }, json: { type: 'boolean' } },
  });
} catch (err) {
  fail(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
}
const { values, positionals } = parsed;
const [command] = positionals;
if ((command !== 'verify' && command !== 'export') || positionals.length > 1) fail(usage);
if (values.case && values.security) fail('give --case or --security, not both');

const config = loadConfigOrExit(process.env, { needsRedis: true });
if (!config.audit.chainKey)
  process.stderr.write('AUDIT_CHAIN_KEY is unset: checking plain SHA-256 chains (set it as the API and workers do)\n');

const redis = createFailFastRedis(requireRedisUrl(config), 'audit-cli');
redis.on('error', (err: Error) => fail(`cannot reach Redis at REDIS_URL: ${err.message}`));
const db = await openRecordsDatabase({ databaseUrl: config.database.url, sqlitePath: config.database.sqlitePath });
const line = (r: StreamReport) =>
  `${r.stream}\tredis ${r.redisEntries}\tarchived ${r.archivedEntries}${r.exported ? `\texported ${r.exported}` : ''}${
    r.missingInRedis ? `\tmissing in redis ${r.missingInRedis}` : ''
  }\t${r.break ? `BROKEN ${r.break.where} seq ${r.break.seq ?? '?'}: ${r.break.reason}` : 'ok'}`;
try {
  const archive = new AuditArchive(redis, db, config.redis.keyPrefix, config.audit.chainKey);
  const only = values.security ? SECURITY_STREAM : values.case;
  const onStream = values.json ? undefined : (r: StreamReport) => process.stdout.write(`${line(r)}\n`);
  const report = command === 'export' ? await archive.export(only, onStream) : await archive.verify(only, onStream);
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else
    process.stdout.write(
      `${report.streams.length} streams, ${report.streams.filter((s) => s.break).length} broken${
        command === 'export' ? `, ${report.streams.reduce((n, s) => n + s.exported, 0)} entries exported` : ''
      }\n`,
    );
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await db.close();
  redis.disconnect();
}
