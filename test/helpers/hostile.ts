/** Loads the hostile-input corpus (test/fixtures/hostile), expanding its size directives (see generate.ts there). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './processes.js';

export const HOSTILE_DIR = path.join(ROOT, 'test/fixtures/hostile');

export type HostileExpect =
  { outcome: 'rejected'; status: number; code?: string } | { outcome: 'flagged'; findings: string[] };

export interface HostileCase {
  file: string;
  id: string;
  category: string;
  description: string;
  /** The request body as sent, and its content type. */
  payload: string;
  contentType: string;
  expect: HostileExpect;
  /** The identifying strings of its patient, for the PHI scan. */
  identifiers: string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function expand(v: Json): Json {
  if (Array.isArray(v)) return v.map(expand);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const a = v[k] as Json[];
      if (k === '$repeat') return (a[0] as string).repeat(Number(a[1]));
      if (k === '$array') return Array.from({ length: Number(a[1]) }, () => expand(a[0]!));
      if (k === '$concat') return [...(expand(a[0]!) as Json[]), ...(expand(a[1]!) as Json[])];
    }
    return Object.fromEntries(Object.entries(v).map(([key, val]) => [key, expand(val)]));
  }
  return v;
}

/** `$nest` directives become text directly: building 100,000 nested arrays as values would overflow JSON.stringify. */
function serialise(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(serialise).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === '$nest' || keys[0] === '$nestObject')) {
      const [n, leaf] = v[keys[0]] as [number, Json];
      return keys[0] === '$nest'
        ? `${'['.repeat(n)}${JSON.stringify(leaf)}${']'.repeat(n)}`
        : `${'{"a":'.repeat(n)}${JSON.stringify(leaf)}${'}'.repeat(n)}`;
    }
    return `{${Object.entries(v)
      .map(([k, val]) => `${JSON.stringify(k)}:${serialise(val)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const IDENTITY = /Syn[0-9a-f]{8}x\d+|syn\.[0-9a-f]{8}\.\d+@example\.invalid|\+44 1632 \d{6}/g;

export function loadHostileCases(): HostileCase[] {
  return readdirSync(HOSTILE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = readFileSync(path.join(HOSTILE_DIR, file), 'utf8');
      const c = JSON.parse(raw) as {
        synthetic: boolean;
        id: string;
        category: string;
        description: string;
        body?: Json;
        rawBody?: string;
        contentType?: string;
        expect: HostileExpect;
      };
      if (c.synthetic !== true) throw new Error(`${file} is not labelled synthetic`);
      const payload = c.rawBody ?? serialise(expand(c.body ?? null));
      return {
        file,
        id: c.id,
        category: c.category,
        description: c.description,
        payload,
        contentType: c.contentType ?? 'application/json',
        expect: c.expect,
        identifiers: [...new Set(raw.match(IDENTITY) ?? [])],
      };
    });
}
