/**
 * Entry point of the imaging-model service: `npm run imaging:serve` (its own process). Loads the
 * model directory IMAGING_MODEL_DIR (meta.json + TF.js or ONNX model), then serves the Open
 * Inference Protocol on HTTP_HOST:IMAGING_PORT. SIGTERM stops accepting requests, finishes the
 * ones in flight, releases the model and exits.
 */
import { loadTls } from '../../src/infra/tls.js';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../../src/config.js';
import { installShutdown } from '../../src/infra/shutdown.js';
import { ModelLoadError } from '../../src/imaging/model.js';
import { createLogger } from '../../src/logger.js';
import { buildImagingService } from './app.js';
import { loadModelRuntime } from './runtime.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, 'imaging-service');
  const started = performance.now();
  const runtime = await loadModelRuntime(config.imaging.service.modelDir);
  const { meta } = runtime;
  logger.info(
    { model: meta.name, version: meta.version, engine: runtime.engine, ms: Math.round(performance.now() - started) },
    'model loaded',
  );
  const tls = loadTls(config);
  const app = await buildImagingService({
    runtime,
    tls,
    logger,
    maxImageBytes: config.imaging.maxImageBytes,
    maxBatch: config.imaging.service.maxBatch,
  });
  await app.listen({ host: config.http.host, port: config.imaging.service.port });
  const { port } = app.server.address() as AddressInfo;
  logger.info(
    { url: `${tls ? 'https' : 'http'}://${config.http.host}:${port}/v2/models/${meta.name}` },
    'imaging service ready (set IMAGING_BASE_URL to the base of this URL)',
  );
  installShutdown(logger, [
    { name: 'http', close: () => app.close() },
    { name: 'model', close: () => runtime.close() },
  ]);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof ModelLoadError) {
    process.stderr.write(`imaging service: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`imaging service failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
