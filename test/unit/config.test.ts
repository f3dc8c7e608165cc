import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envNameFor, loadConfig } from '../../src/config/loadConfig.js';

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'mutegate-config-'));
  const path = join(dir, 'config.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const errorOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('has loopback defaults and one worker per CPU', () => {
    const config = loadConfig({});
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.media).toMatchObject({ listenIp: '127.0.0.1', announcedIp: '127.0.0.1', rtcMinPort: 40000, rtcMaxPort: 49999 });
    expect(config.media.numWorkers).toBeGreaterThanOrEqual(1);
    expect(config.log.level).toBe('info');
  });

  it('derives env names from keys', () => {
    expect(envNameFor(['media', 'rtcMinPort'])).toBe('MUTEGATE_MEDIA_RTC_MIN_PORT');
    expect(envNameFor(['http', 'port'])).toBe('MUTEGATE_HTTP_PORT');
  });

  it('lets env vars override the defaults and a config file', () => {
    const file = configFile({ http: { port: 9000 }, media: { numWorkers: 3, announcedIp: '10.0.0.5' } });
    const config = loadConfig({ MUTEGATE_CONFIG: file, MUTEGATE_HTTP_PORT: '9100', MUTEGATE_LOG_LEVEL: 'debug' });
    expect(config.http.port).toBe(9100);
    expect(config.media.numWorkers).toBe(3);
    expect(config.media.announcedIp).toBe('10.0.0.5');
    expect(config.log.level).toBe('debug');
  });

  it('keeps an env value as text where the key takes a string and not what the text looks like', () => {
    const config = loadConfig({ MUTEGATE_AUTH_HS256_SECRET: '12345678901234567890', MUTEGATE_MEDIA_ANNOUNCED_IP: 'null' });
    expect(config.auth.hs256Secret).toBe('12345678901234567890');
    // The key takes null: "null" is null (here: announce the listen address).
    expect(config.media.announcedIp).toBe('127.0.0.1');
    expect(loadConfig({ MUTEGATE_AUTH_HS256_SECRET: 'null' }).auth.hs256Secret).toBeNull();
    // A key that takes no string still refuses text, and a number key still gets a number.
    expect(errorOf({ MUTEGATE_AUTH_ENABLED: 'yes' })).toContain('"auth.enabled"');
    expect(loadConfig({ MUTEGATE_WS_PING_INTERVAL_MS: '5000' }).ws.pingIntervalMs).toBe(5000);
  });

  it('names the bad key and where it came from', () => {
    expect(errorOf({ MUTEGATE_HTTP_PORT: 'eighty' })).toMatch(/"http\.port" \(from env MUTEGATE_HTTP_PORT\) must be integer/);
    expect(errorOf({ MUTEGATE_HTTP_PORT: '70000' })).toContain('"http.port"');
    expect(errorOf({ MUTEGATE_MEDIA_NUM_WORKERS: '0' })).toContain('"media.numWorkers" (from env MUTEGATE_MEDIA_NUM_WORKERS) must be an integer from 1 to 256, or "auto"');
    expect(errorOf({ MUTEGATE_LOG_LEVEL: 'loud' })).toContain('"log.level"');
    expect(errorOf({ MUTEGATE_MEDIA_LISTEN_IP: 'example.com' })).toContain('"media.listenIp"');
    expect(errorOf({ MUTEGATE_MEDIA_RTC_MIN_PORT: '45000', MUTEGATE_MEDIA_RTC_MAX_PORT: '44000' })).toContain('"media.rtcMinPort"');
    const file = configFile({ http: { prot: 1 } });
    expect(errorOf({ MUTEGATE_CONFIG: file })).toContain('unknown config key "http.prot"');
    expect(errorOf({ MUTEGATE_CONFIG: configFile('{nope') })).toContain('is not valid JSON');
    const badPort = configFile({ media: { rtcMaxPort: 'x' } });
    expect(errorOf({ MUTEGATE_CONFIG: badPort })).toContain(`"media.rtcMaxPort" (from ${badPort})`);
  });

  it('has no cluster unless a Redis URL is given, and checks the cluster settings', () => {
    expect(loadConfig({}).cluster).toMatchObject({ redisUrl: null, nodeTtlMs: 5000, heartbeatMs: 1000, requestTimeoutMs: 3000 });
    expect(loadConfig({ MUTEGATE_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6379' }).cluster.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(errorOf({ MUTEGATE_CLUSTER_REDIS_URL: 'http://127.0.0.1:6379' })).toContain('"cluster.redisUrl"');
    // Renewed less than twice per TTL, a live node would lose its calls to the others.
    expect(errorOf({ MUTEGATE_CLUSTER_HEARTBEAT_MS: '3000' })).toContain('"cluster.heartbeatMs" (from env MUTEGATE_CLUSTER_HEARTBEAT_MS) (3000) must be at most half of cluster.nodeTtlMs (5000)');
  });

  it('refuses a cluster node that listens on every interface without saying where the other nodes reach it', () => {
    const redis = { MUTEGATE_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6379' };
    // Registered as http://0.0.0.0:8080, each other node's relay to it would reach that node itself.
    expect(errorOf({ ...redis, MUTEGATE_HTTP_HOST: '0.0.0.0' })).toContain('"cluster.advertiseUrl" must be set');
    expect(errorOf({ ...redis, MUTEGATE_HTTP_HOST: '::' })).toContain('"cluster.advertiseUrl" must be set');
    // "0" is the resolver's 0.0.0.0 (kept as text since the key takes a string).
    expect(errorOf({ ...redis, MUTEGATE_HTTP_HOST: '0' })).toContain('"cluster.advertiseUrl" must be set');
    expect(loadConfig({ ...redis, MUTEGATE_HTTP_HOST: '0.0.0.0', MUTEGATE_CLUSTER_ADVERTISE_URL: 'http://10.0.0.5:8080' }).cluster.advertiseUrl).toBe('http://10.0.0.5:8080');
    // Without a cluster nobody needs to reach the node: any address.
    expect(loadConfig({ MUTEGATE_HTTP_HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
    expect(errorOf({ ...redis, MUTEGATE_CLUSTER_ADVERTISE_URL: 'ftp://10.0.0.5' })).toContain('"cluster.advertiseUrl"');
  });
});
