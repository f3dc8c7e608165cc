
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type WorkerLogLevel = 'debug' | 'warn' | 'error' | 'none';

/** The configuration as written in config/default.json, a config file or the environment. */
export interface GatewayConfigInput {
  /** Free text for people reading the file; ignored. */
  $comment?: string;
  http: {
    /** Address the HTTP/WebSocket server binds to. */
    host: string;
    /** 0 picks a free port (tests). */
    port: number;
    /** Largest accepted request body; bigger bodies get 413. */
    bodyLimitBytes: number;
  };
  /**
   * More than one node (README "More than one node"): with redisUrl set, calls, the call → node
   * map and everyone's moderation state live in Redis, so a call outlives the node hosting it.
   */
  cluster: {
    /** e.g. redis://127.0.0.1:6379; null: a single process, nothing shared. */
    redisUrl: string | null;
    /**
     * The base URL other nodes reach this one at (its WebSocket relays go there); null: the
     * address it listens on, which must then be a specific one (not 0.0.0.0 or ::).
     */
    advertiseUrl: string | null;
    /** A node whose last heartbeat is older than this counts as gone; its calls move on next use. */
    nodeTtlMs: number;
    /** How often a node renews its registration (and load). */
    heartbeatMs: number;
    /** A Redis command not answered within this fails (a mute does not wait on a stuck Redis). */
    commandTimeoutMs: number;
    /** A request forwarded to the node hosting the call, not answered within this: 503 nodeUnreachable. */
    requestTimeoutMs: number;
  };
  media: {
    /** Address the RTP sockets bind to. */
    listenIp: string;
    /** Address told to participants (media.send.ip); null means listenIp. */
    announcedIp: string | null;
    rtcMinPort: number;
    rtcMaxPort: number;
    /** mediasoup worker processes; "auto" = one per CPU. */
    numWorkers: number | 'auto';
    workerLogLevel: WorkerLogLevel;
    /**
     * How long a mute (lock, deafen, a muted participant's paused producer) waits for the worker to
     * confirm the pause before it fails closed with 503 muteNotConfirmed; an unmute not confirmed
     * in time answers 503 unmuteNotConfirmed and the participant stays muted.
     */
    muteConfirmTimeoutMs: number;
    /**
     * Stats requests per second, for all calls together, that read muted producers' counters for
     * talkingWhileMuted (each muted producer at most every 500 ms); 0 switches the signal off.
     */
    mutedSpeechPollsPerSecond: number;
    /**
     * CIDR blocks a `receive` address (where the SFU sends a plain-RTP participant's audio) must be
     * in. Unspecified, broadcast, multicast, link-local addresses and ports < 1024 are refused whatever this says.
     */
    receiveNetworks: string[];
    /**
     * Token roles that may use unencrypted plain RTP and name `receive` addresses (a trusted
     * backend or SIP gateway). Everyone else joins plain RTP with SRTP and latching.
     */
    trustedRtpRoles: ('app' | 'moderator')[];
    /**
     * Who hears whom in calls created without `forwarding` (see README, "Who is heard in a large
     * call"): "all", "speakers" (the maxSpeakers loudest), or "auto" (all until more than
     * speakersFrom participants send audio, then speakers).
     */
    forwarding: { mode: 'all' | 'speakers' | 'auto'; maxSpeakers: number; silenceDbov: number; speakersFrom: number };
    /**
     * What one worker may carry (admission control, see README "Calls over several workers"):
     * joins go to a worker with room, else answer 503 mediaCapacityExceeded. Packets are
     * estimated at 50/s per producer and per consumer, pipes included.
     */
    workerBudget: {
      consumers: number;
      packetsPerSecond: number;
      /** Share of the budget up to which a worker takes new participants while another still could. */
      placementShare: number;
    };
  };
  log: { level: LogLevel };
  limits: {
    /** Operation records kept per call (oldest dropped first). */
    operationsPerCall: number;
    /** Participants one call may hold; joins beyond it answer 409 callFull (a rejoin replacing a leg always fits). */
    participantsPerCall: number;
    /**
     * Unfinished requests a participant may have about itself (its mute, unmute, hand, send
     * stream, join, leave); more answer 429. A moderator's action on it waits behind at most these.
     */
    ownRequestsInFlight: number;
    /**
     * Requests per second a participant may make about itself, in a burst of twice that; faster
     * ones answer 429. Each of its changes is a roster update to every subscriber of the call.
     */
    ownRequestsPerSecond: number;
    /**
     * Joins, new send streams and WebRTC produces a person may make of itself per minute (a burst
     * of a third of that): each rebuilds what every other participant receives of it.
     */
    ownMediaChangesPerMinute: number;
    /**
     * Whole-roster reads (WebSocket subscribe and resync, the HTTP participant list, the Genesys call reads) per second of
     * a participant or moderator token, in a burst of four times that; the application is not limited.
     */
    rosterReadsPerSecond: number;
    /**
     * Requests (HTTP requests, WebSocket frames, CometD messages) per second of a participant or
     * moderator token, in a burst of ten times that; past it HTTP answers 429, a WebSocket is closed
     * (1008) and a CometD message gets a 429 error. The application is not limited.
     */
    requestsPerSecond: number;
  };
  ws: {
    /** Path of the roster/control WebSocket endpoint. */
    path: string;
    /** Largest client frame; larger ones close the connection (1009). */
    maxFrameBytes: number;
    /** Unsent bytes allowed per connection before it is closed as too slow (4008). */
    maxBufferedBytes: number;
    /** Time a too-slow client gets to take the close frame before its socket is cut. */
    slowCloseGraceMs: number;
    /** Keepalive ping period; a client that misses a pong is dropped at the next one. */
    pingIntervalMs: number;
  };
  webhooks: {
    timeoutMs: number;
    /** Waits before each retry; the list's length is the number of retries. */
    retryDelaysMs: number[];
    maxQueuePerCall: number;
  };
  cometd: {
    path: string;
    connectTimeoutMs: number;
    maxBodyBytes: number;
  };
  webrtc: {
    /** How long a WebRTC participant stays after its signaling closed or its ICE/DTLS failed. */
    reconnectGraceMs: number;
  };
  auth: {
    /** Off only for local experiments: every request is then treated as the application. */
    enabled: boolean;
    /** Shared secret for HS256 tokens (null: HS256 not accepted). */
    hs256Secret: string | null;
    /** Public keys (PEM, SPKI) for RS256/ES256 tokens. */
    publicKeys: { alg: 'RS256' | 'ES256'; pem: string; kid?: string }[];
    /** Required `iss`, when set. */
    issuer: string | null;
    /** Required `aud`, when set. */
    audience: string | null;
    /** Leeway for exp/nbf. */
    clockToleranceSeconds: number;
    /** /metrics without a token. */
    publicMetrics: boolean;
    /** Lets application tokens unmute other participants (Graph has no such call; off by default). */
    allowAppRemoteUnmute: boolean;
  };
}

/** Resolved configuration: defaults applied, "auto" and null replaced by concrete values. */
export interface GatewayConfig extends GatewayConfigInput {
  media: GatewayConfigInput['media'] & { announcedIp: string; numWorkers: number };
}

/** JSON schema of GatewayConfigInput; ajv compiles it into the type guard used by loadConfig. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['http', 'media', 'log', 'limits', 'ws', 'webhooks', 'cometd', 'webrtc', 'auth', 'cluster'],
  properties: {
    $comment: { type: 'string' },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'bodyLimitBytes'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024 },
      },
    },
    media: {
      type: 'object',
      additionalProperties: false,
      required: ['listenIp', 'announcedIp', 'rtcMinPort', 'rtcMaxPort', 'numWorkers', 'workerLogLevel', 'muteConfirmTimeoutMs', 'mutedSpeechPollsPerSecond', 'receiveNetworks', 'trustedRtpRoles', 'forwarding', 'workerBudget'],
      properties: {
        listenIp: { type: 'string', minLength: 1 },
        announcedIp: { type: ['string', 'null'], minLength: 1 },
        rtcMinPort: { type: 'integer', minimum: 1024, maximum: 65535 },
        rtcMaxPort: { type: 'integer', minimum: 1024, maximum: 65535 },
        numWorkers: {
          description: 'an integer from 1 to 256, or "auto"',
          oneOf: [
            { type: 'integer', minimum: 1, maximum: 256 },
            { type: 'string', enum: ['auto'] },
          ],
        },
        workerLogLevel: { type: 'string', enum: ['debug', 'warn', 'error', 'none'] },
        muteConfirmTimeoutMs: { type: 'integer', minimum: 10, maximum: 60_000 },
        mutedSpeechPollsPerSecond: { type: 'integer', minimum: 0, maximum: 100_000 },
        receiveNetworks: {
          type: 'array',
          maxItems: 256,
          items: { type: 'string', description: 'a CIDR block, e.g. 10.0.0.0/8', pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$' },
        },
        trustedRtpRoles: { type: 'array', uniqueItems: true, items: { type: 'string', enum: ['app', 'moderator'] } },
        forwarding: {
          type: 'object',
          additionalProperties: false,
          required: ['mode', 'maxSpeakers', 'silenceDbov', 'speakersFrom'],
          properties: {
            mode: { type: 'string', enum: ['all', 'speakers', 'auto'] },
            maxSpeakers: { type: 'integer', minimum: 1, maximum: 16 },
            silenceDbov: { type: 'integer', minimum: 0, maximum: 127 },
            speakersFrom: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
        },
        workerBudget: {
          type: 'object',
          additionalProperties: false,
          required: ['consumers', 'packetsPerSecond', 'placementShare'],
          properties: {
            consumers: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            packetsPerSecond: { type: 'integer', minimum: 50, maximum: 100_000_000 },
            placementShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
          },
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: {
        level: { type: 'string', enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['operationsPerCall', 'participantsPerCall', 'ownRequestsInFlight', 'ownRequestsPerSecond', 'ownMediaChangesPerMinute', 'rosterReadsPerSecond', 'requestsPerSecond'],
      properties: {
        operationsPerCall: { type: 'integer', minimum: 1, maximum: 1_000_000 },
        participantsPerCall: { type: 'integer', minimum: 1, maximum: 100_000 },
        ownRequestsInFlight: { type: 'integer', minimum: 1, maximum: 1000 },
        ownRequestsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100_000 },
        ownMediaChangesPerMinute: { type: 'number', exclusiveMinimum: 0, maximum: 6_000_000 },
        rosterReadsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100_000 },
        requestsPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
      },
    },
    ws: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'maxFrameBytes', 'maxBufferedBytes', 'slowCloseGraceMs', 'pingIntervalMs'],
      properties: {
        path: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*$' },
        maxFrameBytes: { type: 'integer', minimum: 256, maximum: 16 * 1024 * 1024 },
        maxBufferedBytes: { type: 'integer', minimum: 1024, maximum: 1024 * 1024 * 1024 },
        slowCloseGraceMs: { type: 'integer', minimum: 0, maximum: 60_000 },
        pingIntervalMs: { type: 'integer', minimum: 100, maximum: 600_000 },
      },
    },
    webhooks: {
      type: 'object',
      additionalProperties: false,
      required: ['timeoutMs', 'retryDelaysMs', 'maxQueuePerCall'],
      properties: {
        timeoutMs: { type: 'integer', minimum: 10, maximum: 120_000 },
        retryDelaysMs: { type: 'array', maxItems: 20, items: { type: 'integer', minimum: 0, maximum: 600_000 } },
        maxQueuePerCall: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      },
    },
    cometd: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'connectTimeoutMs', 'maxBodyBytes'],
      properties: {
        path: { type: 'string', pattern: '^/[A-Za-z0-9/_-]*$' },
        connectTimeoutMs: { type: 'integer', minimum: 1000, maximum: 600_000 },
        maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024 },
      },
    },
    webrtc: {
      type: 'object',
      additionalProperties: false,
      required: ['reconnectGraceMs'],
      properties: {
        reconnectGraceMs: { type: 'integer', minimum: 0, maximum: 600_000 },
      },
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      required: ['redisUrl', 'advertiseUrl', 'nodeTtlMs', 'heartbeatMs', 'commandTimeoutMs', 'requestTimeoutMs'],
      properties: {
        $comment: { type: 'string' },
        redisUrl: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^rediss?://', maxLength: 2048 }] },
        advertiseUrl: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^https?://[^/?#]+/?$', maxLength: 2048 }] },
        nodeTtlMs: { type: 'integer', minimum: 1000, maximum: 600_000 },
        heartbeatMs: { type: 'integer', minimum: 100, maximum: 60_000 },
        commandTimeoutMs: { type: 'integer', minimum: 10, maximum: 60_000 },
        requestTimeoutMs: { type: 'integer', minimum: 10, maximum: 60_000 },
      },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['enabled', 'hs256Secret', 'publicKeys', 'issuer', 'audience', 'clockToleranceSeconds', 'publicMetrics', 'allowAppRemoteUnmute'],
      properties: {
        enabled: { type: 'boolean' },
        hs256Secret: { type: ['string', 'null'], minLength: 16 },
        publicKeys: {
          type: 'array',
          maxItems: 32,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['alg', 'pem'],
            properties: {
              alg: { type: 'string', enum: ['RS256', 'ES256'] },
              pem: { type: 'string', pattern: '-----BEGIN PUBLIC KEY-----' },
              kid: { type: 'string', minLength: 1 },
            },
          },
        },
        issuer: { type: ['string', 'null'], minLength: 1 },
        audience: { type: ['string', 'null'], minLength: 1 },
        clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 600 },
        publicMetrics: { type: 'boolean' },
        allowAppRemoteUnmute: { type: 'boolean' },
      },
    },
  },
} as const;
