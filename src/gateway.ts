import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildHttpServer } from './api/http/server.js';
import type { GatewayConfig } from './config/schema.js';
import { CallService } from './control/CallService.js';
import { MediasoupMediaPlane } from './media/MediasoupMediaPlane.js';
import { WorkerPool } from './media/WorkerPool.js';
import { createMetrics } from './metrics/metrics.js';

export interface Gateway {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly service: CallService;
  readonly pool: WorkerPool;
  readonly http: FastifyInstance;
  close(): Promise<void>;
}

/** Wires media → control → API and starts listening. */
export async function startGateway(config: GatewayConfig, logger: Logger = pino({ level: config.log.level })): Promise<Gateway> {
  const pool = await WorkerPool.create(
    {
      numWorkers: config.media.numWorkers,
      rtcMinPort: config.media.rtcMinPort,
      rtcMaxPort: config.media.rtcMaxPort,
      logLevel: config.media.workerLogLevel,
    },
    logger.child({ component: 'media' }),
  );
  const mediaPlane = new MediasoupMediaPlane(pool, { listenIp: config.media.listenIp, announcedIp: config.media.announcedIp });
  const service = new CallService(mediaPlane, { operationsPerCall: config.limits.operationsPerCall });
  service.on('callMediaLost', (call, reason) => logger.error({ callId: call.id, reason }, 'call lost its media'));
  const metrics = createMetrics(service, pool);
  const http = buildHttpServer({
    service,
    metrics,
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    health: { liveWorkers: () => pool.pids.length },
  });

  try {
    await http.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    pool.close();
    throw err;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;

  return {
    url: `http://${host}:${port}`,
    service,
    pool,
    http,
    async close() {
      await http.close();
      service.close();
      pool.close();
    },
  };
}
