import { describe, expect, it } from 'vitest';
import { folderCycles, folderOf } from '../../scripts/check-deps.js';

const graph = (pairs: Array<[string, string]>) => {
  const edges = new Map<string, Set<string>>();
  for (const [a, b] of pairs) edges.set(a, (edges.get(a) ?? new Set()).add(b));
  return edges;
};

describe('import rules: folder cycles', () => {
  it('names the folder of a module', () => {
    expect(folderOf('src/graphs/clinical-case/graph.ts')).toBe('src/graphs');
    expect(folderOf('src/config.ts')).toBe('src/config');
    expect(folderOf('workers/cases-worker.ts')).toBe('workers');
    expect(folderOf('services/imaging/app.ts')).toBe('services/imaging');
    expect(folderOf('test/unit/x.test.ts')).toBeNull();
  });

  it('finds direct and indirect cycles between folders, and none in a layered graph', () => {
    expect(
      folderCycles(
        graph([
          ['src/agents', 'src/graphs'],
          ['src/graphs', 'src/agents'],
        ]),
      ),
    ).toEqual([['src/agents', 'src/graphs']]);
    expect(
      folderCycles(
        graph([
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'a'],
          ['c', 'd'],
        ]),
      ).map((c) => c.join(',')),
    ).toEqual(['a,b,c']);
    expect(
      folderCycles(
        graph([
          ['workers', 'src/graphs'],
          ['src/graphs', 'src/domain'],
          ['workers', 'src/domain'],
        ]),
      ),
    ).toEqual([]);
  });
});
