/** The literature client the configuration names: NCBI or the local service (same client), or none. */
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import { EutilsClient } from './eutils-client.js';

export function literatureClient(config: Config, redis: Redis | null): EutilsClient | null {
  const l = config.literature;
  if (!l.baseUrl) return null;
  const ncbi = /ncbi\.nlm\.nih\.gov/.test(l.baseUrl);
  return new EutilsClient({
    baseUrl: l.baseUrl,
    apiKey: l.apiKey,
    email: l.email,
    redis,
    keyPrefix: config.redis.keyPrefix,
    cacheTtlSeconds: l.cacheTtlSeconds,
    breaker: l.breaker,
    // NCBI's limits apply to NCBI; the local service takes what it is given.
    rateLimit: ncbi ? undefined : 50,
    sourceName: ncbi ? 'pubmed' : 'local-pubmed',
  });
}
