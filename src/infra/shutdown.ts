/**
 * Graceful shutdown for long-running processes. On SIGTERM or SIGINT the closers run in the
 * order given (workers, then queues, then connections), each awaited, and the process exits.
 * A second signal exits at once.
 */
import type { Logger } from '../logger.js';

export interface Closer {
  name: string;
  close(): Promise<void>;
}

export function installShutdown(
  logger: Logger,
  closers: readonly Closer[],
  exit: (code: number) => void = (c) => process.exit(c),
): () => Promise<void> {
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(1);
      return;
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    let code = 0;
    for (const closer of closers) {
      try {
        await closer.close();
        logger.info({ closed: closer.name }, 'closed');
      } catch (err) {
        code = 1;
        logger.error({ closer: closer.name, err: err instanceof Error ? err.message : String(err) }, 'close failed');
      }
    }
    logger.info('shutdown complete');
    logger.flush?.();
    exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => void shutdown(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => shutdown('manual');
}
