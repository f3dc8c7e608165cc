import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { Ajv, type ErrorObject } from 'ajv';
import { configSchema, type GatewayConfig, type GatewayConfigInput } from './schema.js';
import { parseCidr } from '../control/ReceiveAddressPolicy.js';

/** Thrown for any invalid configuration; the message names the bad key and where it came from. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ENV_PREFIX = 'MUTEGATE_';
/** Listen addresses that mean "every interface": no other machine can reach a node there. */
// "0" is what the resolver makes 0.0.0.0 of.
const UNSPECIFIED_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '::', '', '[::]', '0']);
/** Names a JSON config file merged over the embedded defaults. */
export const CONFIG_FILE_ENV = 'MUTEGATE_CONFIG';
const DEFAULT_CONFIG_URL = new URL('../../config/default.json', import.meta.url);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `media.rtcMinPort` → `MUTEGATE_MEDIA_RTC_MIN_PORT`. */
export function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Every leaf key of the defaults, which is exactly the set of keys the environment can set. */
function leafPaths(obj: JsonObject, prefix: string[] = []): string[][] {
  return Object.entries(obj)
    .filter(([key]) => !key.startsWith('$'))
    .flatMap(([key, value]) => (isObject(value) ? leafPaths(value, [...prefix, key]) : [[...prefix, key]]));
}

/**
 * Environment values are strings; numbers, booleans, `null` and JSON arrays (`[100,500]`) are recognised,
 * the schema checks the rest.
 */
function parseEnvValue(raw: string): Json {
  const trimmed = raw.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (trimmed === 'null') return null;
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed) as Json;
    } catch {
      // not JSON: the schema will say what is wrong with the string
    }
  }
  return raw;
}

/** The JSON types the schema gives a key, when it names them (`type`); undefined otherwise. */
function schemaTypesAt(path: readonly string[]): string[] | undefined {
  let node: unknown = configSchema;
  for (const key of path) {
    const properties = (node as { properties?: Record<string, unknown> }).properties;
    node = properties?.[key];
    if (node === undefined) return undefined;
  }
  const type = (node as { type?: string | string[] }).type;
  return type === undefined ? undefined : Array.isArray(type) ? type : [type];
}

function jsonTypeOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/**
 * An environment value for one key: parsed as above, except that a key whose schema takes a
 * string and not what the text looks like keeps the text (an all-digit HS256 secret, an
 * issuer `1234`), so no string setting has to go through a config file. Keys typed through
 * oneOf/anyOf (numWorkers, the cluster URLs) are parsed as before: their patterns take no
 * number, boolean or null anyway.
 */
function envValueFor(path: readonly string[], raw: string): Json {
  const parsed = parseEnvValue(raw);
  const types = schemaTypesAt(path);
  if (!types || !types.includes('string') || typeof parsed === 'string') return parsed;
  const type = jsonTypeOf(parsed);
  const allowed = types.includes(type) || (type === 'integer' && types.includes('number'));
  return allowed ? parsed : raw;
}

function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function setPath(obj: JsonObject, path: readonly string[], value: Json): void {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!isObject(next)) throw new Error(`config path ${path.join('.')} is not an object`);
    node = next;
  }
  node[path[path.length - 1] as string] = value;
}

function readJsonFile(path: string | URL, what: string): JsonObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${String(path)}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${what} ${String(path)} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new ConfigError(`${what} ${String(path)} must hold a JSON object`);
  return parsed;
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const validate = ajv.compile<GatewayConfigInput>(configSchema);

function describeError(err: ErrorObject, sources: Map<string, string>): string {
  const segments = err.instancePath.split('/').filter(Boolean);
  if (err.keyword === 'additionalProperty' || err.keyword === 'additionalProperties') {
    segments.push(String((err.params as { additionalProperty: string }).additionalProperty));
    return `unknown config key "${segments.join('.')}"`;
  }
  if (err.keyword === 'required') {
    segments.push(String((err.params as { missingProperty: string }).missingProperty));
    return `config key "${segments.join('.')}" is required`;
  }
  const key = segments.join('.');
  const source = sources.get(key);
  const allowed = err.keyword === 'enum' ? ` (${(err.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
  // oneOf's own message ("must match exactly one schema") says nothing; the schema describes it.
  const described = (err.parentSchema as { description?: string } | undefined)?.description;
  const message = err.keyword === 'oneOf' && described ? `must be ${described}` : (err.message ?? 'is invalid');
  return `config key "${key}"${source ? ` (from ${source})` : ''} ${message}${allowed}`;
}

/**
 * Embedded defaults (config/default.json) ← optional file named by MUTEGATE_CONFIG ← environment
 * (MUTEGATE_<SECTION>_<KEY>, e.g. MUTEGATE_HTTP_PORT). Throws ConfigError naming the bad key.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const defaults = readJsonFile(DEFAULT_CONFIG_URL, 'embedded default config');
  const sources = new Map<string, string>();
  let merged = defaults;

  const file = env[CONFIG_FILE_ENV];
  if (file) {
    const fromFile = readJsonFile(file, `config file (${CONFIG_FILE_ENV})`);
    merged = deepMerge(merged, fromFile);
    for (const path of leafPaths(fromFile)) sources.set(path.join('.'), file);
  }

  for (const path of leafPaths(defaults)) {
    const name = envNameFor(path);
    const raw = env[name];
    if (raw === undefined) continue;
    setPath(merged, path, envValueFor(path, raw));
    sources.set(path.join('.'), `env ${name}`);
  }

  if (!validate(merged)) {
    const errors = (validate.errors ?? [])
      // oneOf reports each failed branch and then itself; the summary line is enough.
      .filter((e) => !e.schemaPath.includes('/oneOf/'))
      .map((e) => describeError(e, sources));
    throw new ConfigError(`invalid configuration: ${[...new Set(errors)].join('; ')}`);
  }
  const input: GatewayConfigInput = merged;

  const where = (key: string) => (sources.has(key) ? ` (from ${sources.get(key)})` : '');
  for (const key of ['listenIp', 'announcedIp'] as const) {
    const value = input.media[key];
    if (value !== null && isIP(value) === 0) {
      throw new ConfigError(`invalid configuration: config key "media.${key}"${where(`media.${key}`)} must be an IP address, got "${value}"`);
    }
  }
  for (const cidr of input.media.receiveNetworks) {
    try {
      parseCidr(cidr);
    } catch (err) {
      throw new ConfigError(`invalid configuration: config key "media.receiveNetworks"${where('media.receiveNetworks')}: ${(err as Error).message}`);
    }
  }
  if (input.media.rtcMinPort > input.media.rtcMaxPort) {
    throw new ConfigError(
      `invalid configuration: config key "media.rtcMinPort"${where('media.rtcMinPort')} (${input.media.rtcMinPort}) must not exceed media.rtcMaxPort (${input.media.rtcMaxPort})`,
    );
  }
  // A node renews its registration more than twice per TTL, or the others would take its calls while it lives.
  if (input.cluster.heartbeatMs * 2 > input.cluster.nodeTtlMs) {
    throw new ConfigError(
      `invalid configuration: config key "cluster.heartbeatMs"${where('cluster.heartbeatMs')} (${input.cluster.heartbeatMs}) must be at most half of cluster.nodeTtlMs (${input.cluster.nodeTtlMs})`,
    );
  }

  // Other nodes reach this one at its registered URL: an unspecified address would lead each of
  // them back to itself (their relays to this node would loop).
  if (input.cluster.redisUrl !== null && input.cluster.advertiseUrl === null && UNSPECIFIED_HOSTS.has(input.http.host)) {
    throw new ConfigError(
      `invalid configuration: config key "cluster.advertiseUrl"${where('cluster.advertiseUrl')} must be set (e.g. http://10.0.0.5:${input.http.port}) when a cluster node listens on ${input.http.host}: other nodes cannot reach "${input.http.host}"`,
    );
  }

  return {
    ...input,
    media: {
      ...input.media,
      announcedIp: input.media.announcedIp ?? input.media.listenIp,
      numWorkers: input.media.numWorkers === 'auto' ? availableParallelism() : input.media.numWorkers,
    },
  };
}
