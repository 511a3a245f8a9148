/**
 * `make demo`: start the stack locally and push the synthetic cases through it.
 *
 *   - a real redis-server with AOF under .data/demo/redis (unless REDIS_URL is set)
 *   - the API server and a cases worker, each its own process, logging to .data/demo/logs
 *   - the local literature service when LITERATURE_CORPUS is set (and LITERATURE_BASE_URL is not)
 *   - the imaging-model service (Open Inference Protocol) with the committed model, unless
 *     IMAGING_BASE_URL points at another server (Triton, KServe, MLServer)
 *   - one extra case with a real chest X-ray attached inline, taken at run time from the
 *     PneumoniaMNIST validation split under SHARED_DATA_DIR (CC BY 4.0; nothing is copied into the repo)
 *   - a delivery worker, and a webhook receiver in this process that checks each signature
 *   - staff accounts for the review UI (a reviewer and an ops account, passwords printed once)
 *   - every case in examples/cases submitted over HTTP with a callback URL, followed until it
 *     reaches review, plus one resubmission to show idempotency
 *   - a clearly labelled scripted reviewer that claims and approves two cases over the review
 *     API, then waits for their signed webhooks
 *
 * Then it prints where to look and keeps running until Ctrl-C (or exits with --once).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { PNG } from 'pngjs';
import { loadSplit } from '../src/imaging/npy.js';
import path from 'node:path';
import { ConfigError, loadConfig, tokenNames } from '../src/config.js';
import { ApiError, WaitTimeoutError } from '../src/client/index.js';
import { freePort } from '../src/infra/redis-server.js';
import type { CaseSubmissionInput, CaseView } from '../src/domain/case.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccountStore } from '../src/auth/accounts.js';
import { verifySignature } from '../src/delivery/webhook.js';
import { waitForHttp } from '../test/helpers/processes.js';
import { DevStack } from '../test/support/stack.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DEMO_DIR = path.join(ROOT, '.data', 'demo');
const LOG_DIR = path.join(DEMO_DIR, 'logs');
const once = process.argv.includes('--once') || process.env.DEMO_ONCE === '1';

const say = (msg: string) => process.stdout.write(`${msg}\n`);

let stack: DevStack | undefined;
let closeReceiver: (() => void) | undefined;

async function stopAll(): Promise<void> {
  closeReceiver?.();
  await stack?.close();
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(err.message);
      process.exit(2);
    }
    throw err;
  }
  mkdirSync(LOG_DIR, { recursive: true });

  const webhookSecret = randomBytes(24).toString('hex');
  stack = await DevStack.open({
    ...(config.redis.url ? { redisUrl: config.redis.url } : {}),
    redisDir: path.join(DEMO_DIR, 'redis'),
    appendonly: true,
    keyPrefix: config.redis.keyPrefix,
    ...(process.env.HTTP_PORT ? { port: Number(process.env.HTTP_PORT) } : {}),
    service: { name: 'demo' },
    // The scripted reviewer and the metrics example use staff tokens; people use accounts.
    staff: { 'demo-scripted-reviewer': { roles: ['reviewer'] }, 'demo-ops-token': { roles: ['ops'] } },
    env: {
      HTTP_HOST: '127.0.0.1',
      WEBHOOK_SECRETS: `demo:${webhookSecret}`,
      CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    },
    spawn: { inheritEnv: true },
    logDir: LOG_DIR,
    waitForWorkers: false,
    onExit: (name, code, signal) =>
      say(`!! ${name} exited unexpectedly (code ${code}, signal ${signal}); see ${path.join(LOG_DIR, `${name}.log`)}`),
  });
  const { redisUrl, base } = stack;
  if (stack.redis) say(`redis-server   ${redisUrl}  (AOF on, data in ${stack.redis.dataDir})`);
  else say(`redis          ${redisUrl}  (from REDIS_URL)`);
  const token = stack.tokens.service;
  const opsToken = stack.tokens.staff['demo-ops-token']!;

  // A webhook receiver standing in for the backend service: it checks each delivery's signature.
  const deliveries: Array<{ id: string; valid: boolean }> = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      deliveries.push({
        id: String(req.headers['x-co-delivery-id']),
        valid: verifySignature(
          body,
          String(req.headers['x-co-timestamp']),
          String(req.headers['x-co-signature']),
          webhookSecret,
        ),
      });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/care-plans`;
  closeReceiver = () => receiver.close();

  // Accounts for the review UI: created on the first run, passwords reset (and printed) on every run.
  const accounts = await AccountStore.open({
    databaseUrl: config.database.url,
    sqlitePath: config.accounts.sqlitePath,
    reservedNames: tokenNames(config),
  });
  const passwords: Record<string, string> = {};
  for (const [name, roles] of [
    ['demo-reviewer', ['reviewer']],
    ['demo-ops', ['ops']],
  ] as const) {
    passwords[name] = randomBytes(12).toString('base64url');
    if (await accounts.get(name)) await accounts.setPassword(name, passwords[name]);
    else await accounts.create(name, passwords[name], [...roles], 'demo');
  }
  await accounts.close();
  const env: Record<string, string> = {};
  if (config.literature.baseUrl) {
    say(`literature     ${config.literature.baseUrl}  (from LITERATURE_BASE_URL)`);
  } else if (config.literature.corpus) {
    const litPort = await freePort();
    await stack.spawn('literature', false, {
      entry: 'services/literature/main.ts',
      // The corpus as this process resolved it (possibly the shared default): the stack's processes get literature only when told.
      env: { LITERATURE_PORT: String(litPort), LITERATURE_CORPUS: config.literature.corpus },
    });
    say(
      `literature     building or loading the index for ${config.literature.corpus} (progress in ${path.join(LOG_DIR, 'literature.log')})`,
    );
    await waitForHttp(`http://127.0.0.1:${litPort}/healthz`, 30 * 60_000, 200);
    env.LITERATURE_BASE_URL = `http://127.0.0.1:${litPort}/entrez/eutils`;
    say(`literature     ${env.LITERATURE_BASE_URL}  (local E-utilities service)`);
  } else {
    say('literature     none: set LITERATURE_CORPUS to PubMed baseline XML (e.g. a pubmed25nXXXX.xml.gz file from');
    say(
      '               https://ftp.ncbi.nlm.nih.gov/pubmed/baseline/) or LITERATURE_BASE_URL to NCBI; literature steps report "unavailable"',
    );
  }
  if (config.imaging.baseUrl) {
    say(`imaging        ${config.imaging.baseUrl}  (from IMAGING_BASE_URL)`);
  } else {
    const imagingPort = await freePort();
    await stack.spawn('imaging', false, {
      entry: 'services/imaging/main.ts',
      env: { IMAGING_PORT: String(imagingPort) },
    });
    await waitForHttp(`http://127.0.0.1:${imagingPort}/v2/health/ready`, 120_000, 200);
    env.IMAGING_BASE_URL = `http://127.0.0.1:${imagingPort}`;
    say(
      `imaging        ${env.IMAGING_BASE_URL}/v2/models/${config.imaging.modelName}  (Open Inference Protocol, model ${path.relative(ROOT, config.imaging.service.modelDir)})`,
    );
  }
  // The API (ready once /readyz answers), a cases worker and a delivery worker, with the tool services' URLs.
  await stack.start(env);
  const service = stack.client();
  say(`api            ${base}  (mode: ${config.model.mode})`);

  const runTag = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const examplesDir = path.join(ROOT, 'examples', 'cases');
  const ids: string[] = [];
  const submissions: Array<{ file: string; submission: { caseId: string } }> = readdirSync(examplesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      submission: (JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8')) as { submission: { caseId: string } })
        .submission,
    }));
  const xray = imagingCase(
    path.join(examplesDir, 'pneumonia-penicillin-allergy.json'),
    path.join(config.sharedDataDir, 'pneumoniamnist', 'pneumoniamnist-trainval.npz'),
  );
  if (xray) submissions.push(xray);
  else say('\n(no PneumoniaMNIST data under SHARED_DATA_DIR: the demo runs without a case carrying an X-ray image)');
  say('\nSubmitting synthetic cases (examples/cases, all SYNTHETIC):');
  for (const { file, submission: original } of submissions) {
    const submission = { ...original, caseId: `${original.caseId}-${runTag}`, callbackUrl };
    const submit = () =>
      service.submitCase(submission as CaseSubmissionInput).then(
        ({ created, case: view }) => `${created ? 202 : 200} ${view.status}`,
        (err: unknown) => {
          if (err instanceof ApiError) return `${err.status} ${err.problemCode ?? ''}`;
          throw err;
        },
      );
    say(`  POST ${file.padEnd(36)} -> ${await submit()}  ${submission.caseId}`);
    ids.push(submission.caseId);
    if (ids.length === 1) {
      const again = (await submit()).split(' ')[0];
      say(`  POST ${file.padEnd(36)} -> ${again} (resubmitted: idempotent, nothing new enqueued)`);
    }
  }

  const follow = (id: string, statuses: CaseView['status'][]): Promise<CaseView | null> =>
    service.waitForStatus(id, statuses, { timeoutMs: 60_000 }).catch((err: unknown) => {
      if (err instanceof WaitTimeoutError) return null;
      throw err;
    });
  say('\nFollowing the cases (normalise → decompose → tools → draft → verify → review queue):');
  const drafted = new Map<string, CaseView>();
  for (const id of ids) {
    const view = await follow(id, ['awaiting_review', 'failed']);
    if (!view) {
      say(`  !! ${id} did not reach review within 60 s; see the worker log`);
      continue;
    }
    drafted.set(id, view);
    say(
      `  ${id.padEnd(48)} ${view.status.padEnd(16)} revision ${view.revision}, worst finding: ${view.maxSeverity ?? 'none'}`,
    );
  }

  // A scripted stand-in for a clinician, so the demo shows the whole loop over the review API. Real decisions come from the review UI.
  const reviewer = stack.client(stack.tokens.staff['demo-scripted-reviewer']);
  type DemoPlan = {
    label?: string;
    sections?: Record<string, Array<{ text: string; citations: string[] }>>;
    unavailable?: Array<{ type: string; reason: string }>;
  } | null;
  const approve = async (id: string | undefined): Promise<CaseView | null> => {
    if (!id || drafted.get(id)?.status !== 'awaiting_review') return null;
    try {
      await reviewer.claimReview(id, 1);
      await reviewer.decide(id, 1, { action: 'approve' });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      say(`  !! the scripted reviewer could not decide ${id}: HTTP ${err.status}`);
      return null;
    }
    const view = await follow(id, ['approved']);
    const deadline = Date.now() + 30_000;
    while (!deliveries.some((d) => d.id === `${id}.r1`) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    const hook = deliveries.find((d) => d.id === `${id}.r1`);
    say(
      `\nScripted demo reviewer (staff token "demo-scripted-reviewer") claimed and approved ${id}: status ${view?.status ?? 'not approved in time'}; webhook ${hook ? `received, signature ${hook.valid ? 'valid' : 'INVALID'}` : 'not received in time'}`,
    );
    return view;
  };
  const approved = await approve(ids.find((id) => id.startsWith('syn-polypharmacy')));
  const plan = approved?.plan as DemoPlan;
  if (plan?.sections) {
    say(`  ${plan.label}`);
    for (const [section, recs] of Object.entries(plan.sections)) {
      for (const r of recs.slice(0, 2))
        say(
          `  [${section}] ${r.text.slice(0, 110)}${r.text.length > 110 ? '…' : ''}  (cites ${r.citations.slice(0, 3).join(', ') || 'nothing'})`,
        );
    }
    const skipped = plan.unavailable ?? [];
    if (skipped.length)
      say(
        `  ${skipped.length} step(s) could NOT be done and the plan says so: ${[...new Set(skipped.map((u) => `${u.type} (${u.reason})`))].join('; ')}`,
      );
  }
  const xrayPlan = (await approve(ids.find((id) => id.startsWith('syn-pneumonia-xray'))))?.plan as DemoPlan;
  for (const r of Object.values(xrayPlan?.sections ?? {})
    .flat()
    .filter((x) => x.citations.some((c) => c.startsWith('img:'))))
    say(`  [imaging] ${r.text}  (cites ${r.citations.join(', ')})`);
  const final = new Map([...drafted].filter(([, v]) => v.status !== 'failed'));
  say(`
Where to look:
  Review UI               ${base}/review   sign in as demo-reviewer / ${passwords['demo-reviewer']}
  Queues (Bull Board)     ${base}/ops/queues   sign in as demo-ops / ${passwords['demo-ops']}
  Metrics (Prometheus)    curl -H 'authorization: Bearer ${opsToken}' ${base}/metrics
  An audit trail          curl -H 'authorization: Bearer ${token}' ${base}/v1/cases/${ids[0]}/audit
  API docs (Swagger UI)   ${base}/docs
  OpenAPI document        ${base}/openapi.json
  Health / readiness      ${base}/healthz   ${base}/readyz
  A case                  curl -H 'authorization: Bearer ${token}' ${base}/v1/cases/${ids[0]}
  Imaging model           ${env.IMAGING_BASE_URL ?? config.imaging.baseUrl}/v2/models/${config.imaging.modelName}
  Logs (JSON, no PHI)     ${LOG_DIR}/api.log  ${LOG_DIR}/cases-1.log  ${LOG_DIR}/delivery.log  ${LOG_DIR}/imaging.log
  Redis                   redis-cli -u ${redisUrl} keys '${config.redis.keyPrefix}:case:*'
The other ${ids.length - 2} cases wait in the review queue for a human decision: open the review UI.`);

  if (once) {
    await stopAll();
    say('\ndemo finished (--once); everything stopped.');
    process.exit(final.size === ids.length && approved?.status === 'approved' ? 0 : 1);
  }
  say('\nRunning. Press Ctrl-C to stop (workers finish their jobs first, Redis keeps its AOF).');
  const onSignal = () => {
    say('\nstopping...');
    void stopAll().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/**
 * The pneumonia example with its ImagingStudy replaced by a real chest X-ray attached inline as a
 * PNG: validation image 0 of PneumoniaMNIST (MedMNIST v2, Kermany et al.; CC BY 4.0), read from
 * the shared data at run time. Null when the data is not on this machine.
 */
function imagingCase(exampleFile: string, npz: string): { file: string; submission: { caseId: string } } | null {
  if (!existsSync(npz)) return null;
  const val = loadSplit(npz, ['val']);
  const index = val.labels.indexOf(1);
  const png = new PNG({ width: val.width, height: val.height });
  for (let i = 0; i < val.width * val.height; i++) {
    const g = val.images[index * val.width * val.height + i]!;
    png.data.set([g, g, g, 255], i * 4);
  }
  const example = JSON.parse(readFileSync(exampleFile, 'utf8')) as {
    submission: { caseId: string; bundle: { entry: Array<{ resource: { resourceType: string } }> } };
  };
  const submission = example.submission;
  submission.caseId = 'syn-pneumonia-xray-001';
  submission.bundle.entry = submission.bundle.entry.filter((e) => e.resource.resourceType !== 'ImagingStudy');
  submission.bundle.entry.push({
    resource: {
      resourceType: 'DocumentReference',
      status: 'current',
      description: `Chest radiograph: PneumoniaMNIST validation image ${index} (CC BY 4.0)`,
      content: [{ attachment: { contentType: 'image/png', data: PNG.sync.write(png).toString('base64') } }],
    } as { resourceType: string },
  });
  return { file: 'pneumonia + inline X-ray (PneumoniaMNIST)', submission };
}

main().catch(async (err: unknown) => {
  say(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  await stopAll();
  process.exit(1);
});
