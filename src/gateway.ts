import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { CometdServer } from './api/cometd/CometdServer.js';
import { InFlightRequests } from './api/http/inFlightRequests.js';
import { buildHttpServer } from './api/http/server.js';
import { routeUpgrades } from './api/http/upgradeRouter.js';
import { WebhookDispatcher } from './api/webhooks/WebhookDispatcher.js';
import { SocketServer } from './api/ws/SocketServer.js';
import { WebRtcPresence } from './api/ws/WebRtcPresence.js';
import type { GatewayConfig } from './config/schema.js';
import { DEVELOPMENT_SECRET } from './api/auth/devTokens.js';
import { TokenVerifier } from './api/auth/TokenVerifier.js';
import { ClusterNode } from './cluster/ClusterNode.js';
import { CallService } from './control/CallService.js';
import { sanitizeForwarding } from './control/forwarding.js';
import { Moderation } from './control/Moderation.js';
import { requestRateLimit, rosterReadLimit } from './control/PrincipalRateLimit.js';
import { Policy } from './control/Policy.js';
import { ReceiveAddressPolicy } from './control/ReceiveAddressPolicy.js';
import type { CommandContext } from './commands/context.js';
import { WebRtcSignaling } from './control/WebRtcSignaling.js';
import { MediasoupMediaPlane } from './media/MediasoupMediaPlane.js';
import { WORKER_OWNER_ENV, WorkerPool } from './media/WorkerPool.js';
import { createMetrics } from './metrics/metrics.js';

/** How long shutdown waits for the HTTP requests already received to be answered. */
const SHUTDOWN_REQUEST_GRACE_MS = 2000;
/** How long shutdown waits for CometD agents to fetch their final events. */
const SHUTDOWN_COMETD_FLUSH_MS = 2000;

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
      budget: config.media.workerBudget,
    },
    logger.child({ component: 'media' }),
  );
  const mediaPlane = new MediasoupMediaPlane(
    pool,
    { listenIp: config.media.listenIp, announcedIp: config.media.announcedIp },
    { mutedSpeechPollsPerSecond: config.media.mutedSpeechPollsPerSecond },
  );
  const { maxSpeakers, silenceDbov, speakersFrom } = config.media.forwarding;
  // More than one node: calls and moderation state in Redis (README "More than one node").
  const { redisUrl } = config.cluster;
  const cluster =
    redisUrl === null
      ? undefined
      : new ClusterNode({ ...config.cluster, redisUrl }, logger.child({ component: 'cluster' }), {
          raiseFence: () => mediaPlane.raiseFence(),
          liftFence: () => mediaPlane.liftFence(),
          workerMark: `${WORKER_OWNER_ENV}=${pool.owner}`,
        });
  const service = new CallService(mediaPlane, {
    operationsPerCall: config.limits.operationsPerCall,
    participantsPerCall: config.limits.participantsPerCall,
    ownRequestsInFlight: config.limits.ownRequestsInFlight,
    ownRequestsPerSecond: config.limits.ownRequestsPerSecond,
    ownMediaChangesPerMinute: config.limits.ownMediaChangesPerMinute,
    muteConfirmTimeoutMs: config.media.muteConfirmTimeoutMs,
    // Who hears whom in calls that do not say (README "Who is heard in a large call").
    forwarding: sanitizeForwarding(config.media.forwarding),
    forwardingDefaults: { maxSpeakers, silenceDbov, speakersFrom },
    ...(cluster ? { stateStore: cluster.store } : {}),
  });
  cluster?.attach(service, config.limits.operationsPerCall);
  // A domain event listener that throws is logged here and counted in /metrics (metrics.ts); the
  // operation that emitted the event goes on as if nothing happened (see SafeEventEmitter).
  service.onListenerError((event, err) => logger.error({ err, event }, 'a domain event listener failed'));
  const policy = new Policy({ allowAppRemoteUnmute: config.auth.allowAppRemoteUnmute, trustedRtpRoles: config.media.trustedRtpRoles });
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
  const signaling = new WebRtcSignaling(service);
  const commands: CommandContext = {
    service,
    policy,
    moderation,
    signaling,
    receiveAddresses: ReceiveAddressPolicy.forListenIp(config.media.receiveNetworks, config.media.listenIp),
    rosterReads: rosterReadLimit(config.limits.rosterReadsPerSecond),
    requests: requestRateLimit(config.limits.requestsPerSecond),
    ...(cluster ? { hosting: cluster.hosting } : {}),
  };
  const presence = new WebRtcPresence(service, config.webrtc.reconnectGraceMs, logger.child({ component: 'webrtc' }));
  const sockets = new SocketServer(commands, verifier, presence, config.ws, logger.child({ component: 'ws' }), cluster?.link);
  const webhooks = new WebhookDispatcher(service, config.webhooks, logger.child({ component: 'webhooks' }), cluster !== undefined);
  const cometd = new CometdServer(commands, verifier, config.cometd, baseUrl, logger.child({ component: 'cometd' }), cluster?.link);
  const metrics = createMetrics({ service, workers: pool, webhooks, sockets, ...(cluster ? { cluster } : {}) });
  const requests = new InFlightRequests();
  const http = buildHttpServer({
    commands,
    verifier,
    publicMetrics: config.auth.publicMetrics,
    metrics,
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    requests,
    health: { liveWorkers: () => pool.pids.length, ...(cluster ? { cluster: () => cluster.health() } : {}) },
    baseUrl,
    rawEndpoint: cometd,
    ...(cluster ? { cluster: { link: cluster.link } } : {}),
  });
  routeUpgrades(http.server, [sockets, cometd]);

  /**
   * Graceful shutdown. Nothing a client already sent is answered 404 because of it: each request
   * received is either served or answered 503 `shuttingDown`, and every agent hears its calls end.
   */
  const closeAll = async () => {
    // New requests get 503; the ones received, also those still being authenticated, are served.
    requests.startClosing();
    if (!(await requests.settled(SHUTDOWN_REQUEST_GRACE_MS))) logger.warn({ requests: requests.size }, 'requests still running at shutdown');
    // Every domain operation already submitted (HTTP or WebSocket) finishes.
    await service.drain();
    // Every call ends, so each roster (WebSocket, webhooks, CometD) hears it; from now on a
    // request for a call answers 503 shuttingDown, not 404.
    service.close();
    // Nothing more is written for its calls: other nodes may take them now, not after nodeTtlMs.
    await cluster?.leave();
    await webhooks.flush(2000);
    await sockets.close();
    // CometD agents fetch their final events; long-polling ones may need a new connection for
    // it, so the server still listens until they have.
    await cometd.close(SHUTDOWN_COMETD_FLUSH_MS);
    // Stop listening; what is left after a grace second (reconnecting long-polls) is cut.
    const httpClosed = http.close();
    await Promise.race([httpClosed, new Promise((r) => setTimeout(r, 1000).unref())]);
    http.server.closeAllConnections();
    await httpClosed;
    webhooks.close();
    await cluster?.close();
    pool.close();
  };
  try {
    // Registered for the other nodes: where they reach this one (checked in loadConfig).
    await cluster?.start(() => (url === '' ? '' : (config.cluster.advertiseUrl?.replace(/\/$/, '') ?? url)));
    await http.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await closeAll();
    throw err;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  url = `http://${host}:${port}`;
  // Registered in the same turn, before any request can create a call here.
  cluster?.listening();

  return { url, service, pool, http, sockets, close: closeAll };
}
