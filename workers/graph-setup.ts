/**
 * Assembles the clinical-case graph for a worker process from the configuration: the durable
 * checkpointer, the tools, and the planner and drafter for the configured mode.
 */
import { createAgents } from '../src/agents/index.js';
import type { Config } from '../src/config.js';
import type { GraphDeps } from '../src/graphs/clinical-case/deps.js';
import type { ToolBox } from '../src/graphs/clinical-case/executor.js';
import { compileClinicalCaseGraph } from '../src/graphs/clinical-case/graph.js';
import { ClinicalCaseRuntime } from '../src/graphs/clinical-case/runtime.js';
import { openCheckpointer } from '../src/infra/checkpointer.js';
import { NO_FAULTS, withCheckpointFaults, type FaultHooks } from '../src/infra/faults.js';
import { LocalKnowledgeBaseClient } from '../src/tools/knowledge-base/client.js';
import { openKnowledgeBase } from '../src/knowledge/open.js';
import { imagingClient } from '../src/tools/imaging/open.js';
import { literatureClient } from '../src/tools/literature/open.js';
import { createFailFastRedis } from '../src/queues/connection.js';

/** Open the tools the configuration names. A tool that is not configured reports "not configured" in its steps. */
export async function openToolBox(config: Config): Promise<{ tools: ToolBox; close: () => Promise<void> }> {
  const kb = await openKnowledgeBase({
    databaseUrl: config.database.url,
    sqlitePath: config.knowledgeBase.sqlitePath,
    seed: config.knowledgeBase.seed,
  });
  // The literature cache and the shared NCBI rate budget live in Redis.
  const redis =
    config.literature.baseUrl && config.redis.url ? createFailFastRedis(config.redis.url, 'literature-cache') : null;
  return {
    tools: {
      knowledgeBase: new LocalKnowledgeBaseClient(kb),
      literature: literatureClient(config, redis),
      imaging: imagingClient(config),
      renalWindowDays: config.knowledgeBase.renalWindowDays,
    },
    close: async () => {
      await kb.close();
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}

export async function openCaseRuntime(
  config: Config,
  overrides: Partial<GraphDeps> = {},
  faults: FaultHooks = NO_FAULTS,
): Promise<{ runtime: ClinicalCaseRuntime; close: () => Promise<void> }> {
  const checkpointer = await openCheckpointer(config);
  const toolBox = overrides.tools
    ? null
    : await openToolBox(config).catch(async (err: unknown) => {
        await checkpointer.close();
        throw err;
      });
  const deps: GraphDeps = {
    tools: toolBox?.tools ?? { knowledgeBase: null, literature: null, imaging: null },
    ...createAgents(config),
    maxRevisions: config.review.maxRevisions,
    planLanguage: config.planLanguage,
    ...overrides,
  };
  const graph = compileClinicalCaseGraph(deps, withCheckpointFaults(checkpointer.saver, faults));
  return {
    runtime: new ClinicalCaseRuntime(graph),
    close: async () => {
      await toolBox?.close();
      await checkpointer.close();
    },
  };
}
