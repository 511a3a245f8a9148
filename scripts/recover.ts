// `npm run recover -- [--dry-run] [--json]`: after Redis lost data (a flushed instance, or a restart
// from an older AOF or snapshot), rebuild case records, review items, decision hand-overs,
// deliveries and the audit streams from the durable records (the case ledger and recorded
// decisions in the records database, the graph checkpoints, the exported audit). See
// workers/recovery.ts for what it does to each case, and docs/operations.md for when to run it.
//
// Safe to run while the API and workers run, and to run again. Exit codes: 0 done, 1 done but some
// cases need another run or a look (raced, or an audit stream that could not be put back), 2 usage
// or configuration.
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config.js';
import { openRecovery, type CaseRecovery } from '../workers/recovery.js';

const usage = 'usage: npm run recover -- [--dry-run] [--json]';

let values;
try {
  ({ values } = parseArgs({ options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } } }));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
  process.exit(2);
}
const config = loadConfigOrExit(process.env, { needsRedis: true });
let recovery;
try {
  recovery = await openRecovery(config);
} catch (err) {
  process.stderr.write(`cannot start recovery: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
const line = (c: CaseRecovery) =>
  `${c.caseId}\t${c.action}\t${c.found ?? 'missing'} -> ${c.status ?? 'missing'}${c.revision !== null ? ` r${c.revision}` : ''}${
    c.deliveryEnqueued ? '\tdelivery enqueued' : ''
  }${c.auditRestored ? `\taudit +${c.auditRestored}` : ''}${c.auditSkipped ? `\taudit ${c.auditSkipped}` : ''}`;
try {
  const report = await recovery.run({
    dryRun: values['dry-run'] ?? false,
    ...(values.json
      ? {}
      : { onCase: (c: CaseRecovery) => void (c.action !== 'consistent' && process.stdout.write(`${line(c)}\n`)) }),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const counts = Object.entries(report.actions)
      .filter(([, n]) => n > 0)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ');
    process.stdout.write(
      `${report.cases} cases${report.dryRun ? ' (dry run: nothing written)' : ''}: ${counts || 'none'}; security log: ${
        report.securityAudit.skipped ?? `${report.securityAudit.restored} entries put back`
      }\n`,
    );
  }
  process.exitCode =
    report.actions.raced > 0 || report.changed.some((c) => c.auditSkipped) || report.securityAudit.skipped ? 1 : 0;
} finally {
  await recovery.close();
}
