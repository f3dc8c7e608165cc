
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type WorkerLogLevel = 'debug' | 'warn' | 'error' | 'none';

/** The configuration as written in config/default.json, a config file or the environment. */
export interface GatewayConfigInput {
  http: {
    /** Address the HTTP/WebSocket server binds to. */
    host: string;
    /** 0 picks a free port (tests). */
    port: number;
    /** Largest accepted request body; bigger bodies get 413. */
    bodyLimitBytes: number;
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
  };
  log: { level: LogLevel };
  limits: {
    /** Operation records kept per call (oldest dropped first). */
    operationsPerCall: number;
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
  required: ['http', 'media', 'log', 'limits'],
  properties: {
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
      required: ['listenIp', 'announcedIp', 'rtcMinPort', 'rtcMaxPort', 'numWorkers', 'workerLogLevel'],
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
      required: ['operationsPerCall'],
      properties: {
        operationsPerCall: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      },
    },
  },
} as const;
