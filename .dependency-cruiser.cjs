// Import rules between folders, checked by `npm run deps:check` (part of `npm test`).
// docs/architecture.md explains what each folder owns and may import.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle between modules.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-the-contract-layer',
      severity: 'error',
      comment: 'src/domain holds shared contracts: it imports only itself, src/errors and libraries.',
      from: { path: '^src/domain/' },
      to: { path: '^(src|workers|services|test|bench|scripts)/', pathNot: '^src/(domain/|errors\\.ts$)' },
    },
    {
      name: 'agents-not-graphs',
      severity: 'error',
      comment: 'Agents implement the planner/drafter contracts of src/domain; they never import a graph.',
      from: { path: '^src/agents/' },
      to: { path: '^src/graphs/' },
    },
    {
      name: 'graphs-not-agents',
      severity: 'error',
      comment: 'Graphs depend on planner/drafter contracts, never on an agent implementation.',
      from: { path: '^src/graphs/' },
      to: { path: '^src/agents/' },
    },
    {
      name: 'tools-are-leaves',
      severity: 'error',
      comment: 'Tools import neither graphs, agents, queues, case lifecycle, server nor workers.',
      from: { path: '^src/tools/' },
      to: { path: '^(src/(graphs|agents|queues|cases|server)/|workers/)' },
    },
    {
      name: 'knowledge-is-a-subsystem',
      severity: 'error',
      comment: 'The knowledge base knows nothing of tools, graphs, queues, the server or workers.',
      from: { path: '^src/knowledge/' },
      to: { path: '^(src/(tools|graphs|agents|queues|cases|server)/|workers/)' },
    },
    {
      name: 'server-not-workers-or-graphs',
      severity: 'error',
      comment: 'The HTTP server imports neither workers nor graph internals.',
      from: { path: '^src/server/' },
      to: { path: '^(workers/|src/graphs/|src/agents/)' },
    },
    {
      name: 'client-only-contracts',
      severity: 'error',
      comment: 'The HTTP client depends only on the shared contracts.',
      from: { path: '^src/client/' },
      to: { path: '^(src|workers|services)/', pathNot: '^src/(client/|domain/|errors\\.ts$)' },
    },
    {
      name: 'src-not-entry-points',
      severity: 'error',
      comment: 'Library code never imports worker processes, services, scripts, benches or tests.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^(workers|services|scripts|bench|test)/' },
    },
    {
      name: 'cli-composition-root',
      severity: 'error',
      comment:
        'The CLI (src/cli) is a composition root like workers/: it assembles the graph with workers/graph-setup.ts, and imports no other worker, service, script, bench or test.',
      from: { path: '^src/cli/' },
      to: { path: '^(workers/(?!graph-setup\\.ts$)|services/|scripts/|bench/|test/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
