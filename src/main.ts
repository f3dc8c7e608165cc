import { pino } from 'pino';
import { ConfigError, loadConfig } from './config/loadConfig.js';
import { startGateway } from './gateway.js';
import { WorkerBinaryMissingError } from './media/workerBinary.js';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 15_000;

/** Starts the gateway on the embedded default config, overridden by MUTEGATE_* env vars. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mutegate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.log.level });

  let gateway;
  try {
    gateway = await startGateway(config, logger);
  } catch (err) {
    if (err instanceof WorkerBinaryMissingError) {
      process.stderr.write(`mutegate: ${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  logger.info({ url: gateway.url, workers: gateway.pool.pids.length }, `mutegate listening on ${gateway.url}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: the operator does not want to wait for the graceful part.
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Graceful shutdown is bounded step by step (requests 2 s, CometD 2 s, connections 1 s, …);
    // this is the backstop should anything still hang.
    setTimeout(() => {
      logger.error({ afterMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`mutegate: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
