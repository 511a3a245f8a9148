/**
 * Import rules: runs dependency-cruiser with .dependency-cruiser.cjs over src, workers and
 * services, then checks that no two top-level folders import each other, directly or through
 * others (a cycle between folders). Exits 1 with a list of what is wrong. `npm run deps:check`.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';

const ROOT = path.resolve(import.meta.dirname, '..');
const Result = z.object({
  modules: z.array(
    z.object({
      source: z.string(),
      dependencies: z.array(z.object({ resolved: z.string(), coreModule: z.boolean() })),
    }),
  ),
  summary: z.object({
    violations: z.array(z.object({ from: z.string(), to: z.string(), rule: z.object({ name: z.string() }) })),
  }),
});

/** The folder a module belongs to: `src/<folder>` (or `src/<file>` for top-level files), `workers`, `services/<name>`. */
export function folderOf(file: string): string | null {
  const parts = file.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? `src/${parts[1]}` : `src/${parts[1]!.replace(/\.ts$/, '')}`;
  if (parts[0] === 'workers') return 'workers';
  if (parts[0] === 'services') return `services/${parts[1]}`;
  return null;
}

/** Strongly connected components of more than one folder (Tarjan). */
export function folderCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

function main(): void {
  const raw = execFileSync(
    path.join(ROOT, 'node_modules/.bin/depcruise'),
    ['--config', '.dependency-cruiser.cjs', '--output-type', 'json', 'src', 'workers', 'services'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const result = Result.parse(JSON.parse(raw));
  const problems = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
  const edges = new Map<string, Set<string>>();
  for (const m of result.modules) {
    const from = folderOf(m.source);
    if (!from) continue;
    for (const d of m.dependencies) {
      const to = d.coreModule ? null : folderOf(d.resolved);
      if (!to || to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  for (const cycle of folderCycles(edges)) problems.push(`folder cycle: ${cycle.join(' ⇄ ')}`);
  const modules = result.modules.filter((m) => folderOf(m.source)).length;
  if (problems.length > 0) {
    process.stderr.write(`import rules: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`import rules: ok (${modules} modules in ${edges.size} folders, no folder cycles)\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) main();
