import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('LangGraph Studio export', () => {
  it('langgraph.json points at a module that exports the compiled clinical-case graph', async () => {
    const manifest = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../langgraph.json'), 'utf8')) as {
      graphs: Record<string, string>;
    };
    const [file, name] = manifest.graphs.clinical_case!.split(':') as [string, string];
    const mod = (await import(path.resolve(import.meta.dirname, '../..', file))) as Record<
      string,
      { getGraph: () => { nodes: Record<string, unknown> } }
    >;
    const nodes = Object.keys(mod[name]!.getGraph().nodes);
    expect(nodes).toEqual(
      expect.arrayContaining(['normalise', 'decompose', 'execute_step', 'draft', 'verify', 'review', 'finalize']),
    );
  });
});
