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
import type { AddressInfo } from 'node:net';
import { openLiteratureStore } from '../services/literature/open.js';
import type { Progress } from '../services/literature/search-index.js';
import { buildLiteratureService } from '../services/literature/server.js';

/** Open the tools the configuration names. A tool that is not configured reports "not configured" in its steps. */
export async function openToolBox(
  config: Config,
  options: { literatureProgress?: Progress } = {},
): Promise<{ tools: ToolBox; close: () => Promise<void> }> {
  const kb = await openKnowledgeBase({
    databaseUrl: config.database.url,
    sqlitePath: config.knowledgeBase.sqlitePath,
    seed: config.knowledgeBase.seed,
  });
  // A local corpus and no literature service: serve it from this process (the same E-utilities
  // service, on a loopback port), so literature works out of the box.
  const local =
    !config.literature.baseUrl && config.literature.corpus
      ? await startLocalLiterature(config, options.literatureProgress).catch(async (err: unknown) => {
          await kb.close();
          throw err;
        })
      : null;
  const literatureConfig = local ? { ...config, literature: { ...config.literature, baseUrl: local.baseUrl } } : config;
  // The literature cache and the shared NCBI rate budget live in Redis (not needed for the in-process service).
  const redis =
    config.literature.baseUrl && config.redis.url ? createFailFastRedis(config.redis.url, 'literature-cache') : null;
  return {
    tools: {
      knowledgeBase: new LocalKnowledgeBaseClient(kb),
      literature: literatureClient(literatureConfig, redis),
      imaging: imagingClient(config),
      renalWindowDays: config.knowledgeBase.renalWindowDays,
    },
    close: async () => {
      await local?.close();
      await kb.close();
      if (redis) await redis.quit().catch(() => undefined);
    },
  };
}

/** The local literature service over the configured corpus, in this process on 127.0.0.1 (index built or loaded). */
async function startLocalLiterature(
  config: Config,
  progress?: Progress,
): Promise<{ baseUrl: string; records: number; close: () => Promise<void> }> {
  const { store } = await openLiteratureStore(config.literature, config.literature.corpus!, progress);
  const app = buildLiteratureService(store);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await store.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/entrez/eutils`,
    records: store.size,
    close: async () => {
      await app.close();
      await store.close();
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
