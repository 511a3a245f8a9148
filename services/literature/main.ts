/**
 * Entry point of the local literature service: `npm run literature:serve`. Builds (with a
 * progress bar) or loads the persisted index for LITERATURE_CORPUS, then serves the
 * E-utilities subset on LITERATURE_PORT. Without a corpus it exits with a clear message; the
 * graph then reports literature as unavailable.
 */
import { loadTls } from '../../src/infra/tls.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CorpusError } from './corpus.js';
import { openLiteratureStore } from './open.js';
import { stderrProgress } from './search-index.js';
import { buildLiteratureService } from './server.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const corpus = config.literature.corpus;
  if (!corpus) {
    process.stderr.write(
      'literature service: no corpus configured. Set LITERATURE_CORPUS to PubMed XML (baseline files, .xml or .xml.gz) or JSONL; until then literature steps report "unavailable".\n',
    );
    process.exit(2);
  }
  const started = performance.now();
  const { store, loaded } = await openLiteratureStore(config.literature, corpus, stderrProgress());
  process.stderr.write(
    `literature service: ${loaded ? 'loaded' : 'built'} ${store.backend} index ${store.fingerprint} over ${store.size} records in ${Math.round(performance.now() - started)} ms\n`,
  );
  const tls = loadTls(config);
  const app = buildLiteratureService(store, tls);
  await app.listen({ host: config.http.host, port: config.literature.port });
  process.stderr.write(
    `literature service: ${tls ? 'https' : 'http'}://${config.http.host}:${config.literature.port}/entrez/eutils/ (set LITERATURE_BASE_URL to this)\n`,
  );
  const stop = async () => {
    await app.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof CorpusError) {
    process.stderr.write(`literature service: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `literature service failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
