/**
 * `co`: try a record without running a stack. The entry point (bin/co.js runs it through tsx):
 * reads the environment and the arguments, dispatches to the command and maps errors to exit
 * codes (0 ok, 1 failure, 2 usage or invalid input). Results go to stdout, progress and errors
 * to stderr. See docs/cli.md.
 */
import { setMaxListeners } from 'node:events';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { MAX_PARALLEL_LISTENERS } from '../graphs/clinical-case/runtime.js';
import { readCaseFile } from './case-input.js';
import { openCaseRunner, progressLine } from './case-run.js';
import { CliError, EXIT, errorLine, failure, usage } from './errors.js';
import { kbCheck, kbSearch, numberOption, withKnowledgeBase } from './kb.js';
import { caseRunMarkdown, caseSubmitMarkdown, kbCheckMarkdown, kbSearchMarkdown } from './markdown.js';
import {
  CaseRunLine,
  CaseRunResult,
  CaseSubmitResult,
  KbCheckResult,
  KbSearchResult,
  toJson,
  type CaseRunFailure,
} from './output.js';
import { submitCase } from './submit.js';

const HELP = `co — try a clinical record without running a stack

Usage:
  co case run FILE… [--question TEXT] [--format markdown|json] [--quiet]
      Run each case (a FHIR Bundle, a case submission or an example file) through the
      clinical-case graph in this process, to its review interrupt, and print the
      minimised view, the draft plan and the verification findings.
  co case submit FILE [--question TEXT] [--wait] [--base-url URL] [--token TOKEN]
                      [--timeout SECONDS] [--format markdown|json] [--quiet]
      Submit the case to a running API (CO_BASE_URL or --base-url, default http://127.0.0.1:8080;
      service token CO_TOKEN or --token) and, with --wait, follow it until it waits for review
      (or closes or fails; --timeout, default 300 s).
  co kb search TERM [--format markdown|json]
      Resolve a term in the knowledge base: entity, type, codes, classes, nearest names.
  co kb check DRUG… [--allergy SUBSTANCE]… [--condition CONDITION]… [--dose "DRUG 500 mg twice daily"]…
                    [--egfr N] [--age YEARS] [--format markdown|json]
      Interaction and duplicate-therapy checks over the drugs; allergy, contraindication,
      dose and renal checks when the options are given. Findings cite their facts and sources.

Options:
  --format markdown|json   markdown (default) for people; json validated against the documented schema
  -h, --help               this help

Environment: OPENAI_MODEL (+ OPENAI_API_KEY / OPENAI_BASE_URL) switches case run to LLM mode;
KB_SEED chooses the knowledge seed; CO_BASE_URL and CO_TOKEN are the API and service token of case submit.
Exit codes: 0 ok, 1 failure, 2 usage or invalid input. Full reference: docs/cli.md.
`;

type Env = Readonly<Record<string, string | undefined>>;
type Format = 'markdown' | 'json';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
}

function formatOf(value: unknown): Format {
  if (value === undefined || value === 'markdown' || value === 'md') return 'markdown';
  if (value === 'json') return 'json';
  throw usage(`--format must be markdown or json (got ${JSON.stringify(value)})`);
}

async function caseRun(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    question: { type: 'string' },
    format: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) return help(io);
  const format = formatOf(values.format);
  if (!positionals.length) throw usage('co case run needs at least one FILE');
  const single = positionals.length === 1;
  // One file is read and validated before the knowledge base is opened: bad input fails fast.
  const first = single
    ? await readCaseFile(positionals[0]!, {
        question: values.question,
        callbackHostAllowlist: loadConfig(env).callbacks.hostAllowlist,
      })
    : null;
  const runner = await openCaseRunner(env, values.quiet ? {} : { onLiterature: (line) => io.err(line) });
  const stop = () => {
    runner.abort();
    void runner.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let exit: number = EXIT.ok;
  try {
    for (const [i, file] of positionals.entries()) {
      try {
        const caseFile =
          first ??
          (await readCaseFile(file, {
            question: values.question,
            callbackHostAllowlist: runner.config.callbacks.hostAllowlist,
          }));
        if (!values.quiet)
          io.err(
            `co: ${file}: case ${caseFile.submission.caseId} (${caseFile.shape}), ${runner.config.model.mode} mode`,
          );
        const result = await runner.run(caseFile, (event) => {
          const line = values.quiet ? null : progressLine(event);
          if (line) io.err(line);
        });
        if (!values.quiet) io.err(`co: ${file}: waiting for review after ${result.durationMs} ms`);
        if (format === 'json') io.out(single ? toJson(CaseRunResult, result) : toJson(CaseRunLine, result, false));
        else io.out(`${i > 0 ? '\n---\n\n' : ''}${caseRunMarkdown(result)}`);
      } catch (err) {
        const cli = asCliError(err);
        if (single) throw cli;
        io.err(errorLine(cli));
        if (exit === EXIT.ok) exit = cli.exitCode;
        const line: CaseRunFailure = { ok: false, file, error: cli.toOutput() };
        if (format === 'json') io.out(toJson(CaseRunLine, line, false));
      }
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await runner.close();
  }
  return exit;
}

const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

async function caseSubmit(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    question: { type: 'string' },
    format: { type: 'string' },
    wait: { type: 'boolean' },
    'base-url': { type: 'string' },
    token: { type: 'string' },
    timeout: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) return help(io);
  const format = formatOf(values.format);
  if (positionals.length !== 1) throw usage('co case submit needs exactly one FILE');
  const baseUrl = values['base-url'] ?? env.CO_BASE_URL ?? DEFAULT_BASE_URL;
  if (!/^https?:\/\/[^\s]+$/i.test(baseUrl)) throw usage(`the API base URL must be an http(s) URL (got “${baseUrl}”)`);
  const token = values.token ?? env.CO_TOKEN;
  if (!token) throw usage('a service token is needed: set CO_TOKEN or give --token');
  const timeout = numberOption('timeout', values.timeout, 1, 24 * 3600) ?? 300;
  const caseFile = await readCaseFile(positionals[0]!, { question: values.question, screenCallbackUrl: false });
  const result = await submitCase(caseFile, {
    baseUrl,
    token,
    wait: values.wait ?? false,
    timeoutMs: timeout * 1000,
    ...(values.quiet ? {} : { onProgress: (line: string) => io.err(line) }),
  });
  io.out(format === 'json' ? toJson(CaseSubmitResult, result) : caseSubmitMarkdown(result));
  if (result.case.status === 'failed') {
    io.err(
      `co: CASE_FAILED: case ${result.case.caseId} failed${result.case.error ? `: ${result.case.error.code}: ${result.case.error.message}` : ''}`,
    );
    return EXIT.failure;
  }
  return EXIT.ok;
}

async function kbSearchCommand(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parse(args, { format: { type: 'string' } });
  if (values.help) return help(io);
  const format = formatOf(values.format);
  const term = positionals.join(' ').trim();
  if (!term) throw usage('co kb search needs a TERM');
  if (term.length > 200) throw usage('the search term is longer than 200 characters');
  const result = await withKnowledgeBase(env, (store) => kbSearch(store, term));
  io.out(format === 'json' ? toJson(KbSearchResult, result) : kbSearchMarkdown(result));
  return EXIT.ok;
}

async function kbCheckCommand(args: string[], env: Env, io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    format: { type: 'string' },
    allergy: { type: 'string', multiple: true },
    condition: { type: 'string', multiple: true },
    dose: { type: 'string', multiple: true },
    egfr: { type: 'string' },
    age: { type: 'string' },
  });
  if (values.help) return help(io);
  const format = formatOf(values.format);
  const age = numberOption('age', values.age, 0, 130);
  const request = {
    drugs: positionals,
    doses: values.dose ?? [],
    allergies: values.allergy ?? [],
    conditions: values.condition ?? [],
    egfr: numberOption('egfr', values.egfr, 0, 200),
    age: age === null ? null : String(Math.floor(age)),
  };
  const result = await withKnowledgeBase(env, (store) => kbCheck(store, request));
  io.out(format === 'json' ? toJson(KbCheckResult, result) : kbCheckMarkdown(result));
  return EXIT.ok;
}

function help(io: Io): number {
  io.out(HELP);
  return EXIT.ok;
}

function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof ConfigError) return new CliError('CONFIG_INVALID', err.message.replace(/\n\s*/g, ' '), EXIT.usage);
  return failure('FAILED', err instanceof Error ? err.message : String(err));
}

/** Run one command line; returns the exit code. */
export async function main(argv: readonly string[], env: Env, io: Io): Promise<number> {
  const [group, command, ...rest] = argv;
  try {
    if (group === undefined || group === '--help' || group === '-h' || group === 'help') return help(io);
    const key = `${group} ${command ?? ''}`.trim();
    switch (key) {
      case 'case run':
        return await caseRun(rest, env, io);
      case 'case submit':
        return await caseSubmit(rest, env, io);
      case 'kb search':
        return await kbSearchCommand(rest, env, io);
      case 'kb check':
        return await kbCheckCommand(rest, env, io);
      default:
        throw usage(`unknown command “${key}”; try co --help`);
    }
  } catch (err) {
    const cli = asCliError(err);
    io.err(errorLine(cli));
    return cli.exitCode;
  }
}

const io: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

// Parallel graph steps each listen on the run's abort signals (LangGraph derives its own from ours); a wide plan has more than 10.
setMaxListeners(MAX_PARALLEL_LISTENERS);
process.exitCode = await main(process.argv.slice(2), process.env, io);
