import { pino } from 'pino';
import { ConfigError, loadConfig } from './config/loadConfig.js';
import { startGateway } from './gateway.js';
import { WorkerBinaryMissingError } from './media/workerBinary.js';

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
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
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
