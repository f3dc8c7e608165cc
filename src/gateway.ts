import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { CometdServer } from './api/cometd/CometdServer.js';
import { buildHttpServer } from './api/http/server.js';
import { routeUpgrades } from './api/http/upgradeRouter.js';
import { WebhookDispatcher } from './api/webhooks/WebhookDispatcher.js';
import { SocketServer } from './api/ws/SocketServer.js';
import { WebRtcPresence } from './api/ws/WebRtcPresence.js';
import type { GatewayConfig } from './config/schema.js';
import { DEVELOPMENT_SECRET } from './api/auth/devTokens.js';
import { TokenVerifier } from './api/auth/TokenVerifier.js';
import { CallService } from './control/CallService.js';
import { Moderation } from './control/Moderation.js';
import { Policy } from './control/Policy.js';
import { WebRtcSignaling } from './control/WebRtcSignaling.js';
import { MediasoupMediaPlane } from './media/MediasoupMediaPlane.js';
import { WorkerPool } from './media/WorkerPool.js';
import { createMetrics } from './metrics/metrics.js';

export interface Gateway {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly service: CallService;
  readonly pool: WorkerPool;
  readonly http: FastifyInstance;
  readonly sockets: SocketServer;
  close(): Promise<void>;
}

/** Wires media → control → adapters (HTTP, WebSocket, webhooks, CometD) and starts listening. */
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
  const policy = new Policy({ allowAppRemoteUnmute: config.auth.allowAppRemoteUnmute });
  const moderation = new Moderation(service);
  const verifier = config.auth.enabled ? await TokenVerifier.create(config.auth) : null;
  if (!verifier) logger.warn('authentication is switched off (auth.enabled=false): every request acts as the application');
  else if (config.auth.hs256Secret === DEVELOPMENT_SECRET) {
    logger.warn(
      'using the embedded development token secret: mint tokens with `npm run token -- --role app`; set MUTEGATE_AUTH_HS256_SECRET (or auth.publicKeys) outside development',
    );
  }
  service.on('callMediaLost', (call, reason) => logger.error({ callId: call.id, reason }, 'call lost its media'));

  let url = '';
  const baseUrl = () => url;
  const webrtc = {
    signaling: new WebRtcSignaling(service),
    presence: new WebRtcPresence(service, config.webrtc.reconnectGraceMs, logger.child({ component: 'webrtc' })),
  };
  const sockets = new SocketServer({ service, policy, moderation }, verifier, webrtc, config.ws, logger.child({ component: 'ws' }));
  const webhooks = new WebhookDispatcher(service, config.webhooks, logger.child({ component: 'webhooks' }));
  const cometd = new CometdServer(service, verifier, config.cometd, baseUrl, logger.child({ component: 'cometd' }));
  const metrics = createMetrics({ service, workers: pool, webhooks, sockets });
  const http = buildHttpServer({
    service,
    policy,
    moderation,
    verifier,
    publicMetrics: config.auth.publicMetrics,
    metrics,
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    health: { liveWorkers: () => pool.pids.length },
    baseUrl,
    rawEndpoint: cometd,
  });
  routeUpgrades(http.server, [sockets, cometd]);

  /**
   * Graceful shutdown: stop taking requests (fastify answers new ones 503 and waits for those in
   * flight), let every domain operation already submitted finish, end every call so each roster
   * (WebSocket, webhooks, CometD) hears it, give webhooks a moment to deliver, then close.
   */
  const closeAll = async () => {
    // Stops accepting at once; resolves when every connection (WebSockets included) is gone.
    const httpClosed = http.close();
    await service.drain();
    service.close();
    await webhooks.flush(2000);
    await sockets.close();
    cometd.close();
    // What is left after a grace second (held CometD long-polls) is cut.
    await Promise.race([httpClosed, new Promise((r) => setTimeout(r, 1000).unref())]);
    http.server.closeAllConnections();
    await httpClosed;
    webhooks.close();
    pool.close();
  };
  try {
    await http.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await closeAll();
    throw err;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  url = `http://${host}:${port}`;

  return { url, service, pool, http, sockets, close: closeAll };
}
