/** The imaging client the configuration names (our service, Triton, KServe or MLServer), or none. */
import type { Config } from '../../config.js';
import { KServeImagingClient } from './client.js';
import { DicomwebClient } from './dicomweb.js';

export function imagingClient(config: Config): KServeImagingClient | null {
  const c = config.imaging;
  if (!c.baseUrl) return null;
  return new KServeImagingClient({
    baseUrl: c.baseUrl,
    model: c.modelName,
    version: c.modelVersion,
    threshold: c.threshold,
    indeterminateBand: c.indeterminateBand,
    timeoutMs: c.timeoutMs,
    retries: c.retries,
    breaker: c.breaker,
    maxImageBytes: c.maxImageBytes,
    dicomweb: c.dicomweb
      ? new DicomwebClient({
          baseUrl: c.dicomweb.baseUrl,
          token: c.dicomweb.token,
          timeoutMs: c.timeoutMs,
          maxBytes: c.maxImageBytes,
        })
      : null,
  });
}
