import type { Logger } from 'pino';
import type { CallStateStore, StoredCall, StoredCallSettings, StoredSpeaker } from '../control/callStateStore.js';
import type { RedisConnection } from './RedisConnection.js';
import type { Operation } from '../control/Operation.js';
import { callKey, nodeKeyPrefix, operationOrderKey, operationsKey, speakersKey } from './keys.js';

/** Where a call is hosted, as the cluster's Redis says. */
export type CallLocation =
  | { kind: 'unknown' }
  | { kind: 'elsewhere'; nodeId: string }
  /** Hosted by a node that is gone (or was never set up here): this node takes it, with its state. */
  | { kind: 'taken'; call: StoredCall }
  /** Its node is not registered, but may still be writing itself back (see locate's `mayTake`): not taken. */
  | { kind: 'unregistered'; nodeId: string };

// The hosting node takes writes for its calls only: a node that was cut off from Redis long
// enough for another to take its calls over cannot overwrite their state when it comes back.
// Answers 1 written, 0 another node hosts the call, -1 Redis does not know the call (lost its data).
const WRITE_IF_HOSTED = `
local node = redis.call('HGET', KEYS[1], 'node')
if not node then return -1 end
if node ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`;
const WRITE_SETTINGS_IF_HOSTED = `
local node = redis.call('HGET', KEYS[1], 'node')
if not node then return -1 end
if node ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'settings', ARGV[2])
return 1`;
// Redis is back: a hosted call is written again in full (Redis may have lost everything: a
// restart without persistence), unless another node took it over meanwhile (answers 0).
// ARGV: node id, settings JSON, roster sequence, then identity key / state JSON pairs.
const REWRITE_IF_NOT_TAKEN = `
local node = redis.call('HGET', KEYS[1], 'node')
if node and node ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'settings', ARGV[2], 'node', ARGV[1], 'rosterSequence', ARGV[3])
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1`;
const END_IF_HOSTED = `
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1`;
// A finished operation, the oldest forgotten past ARGV[4] of them (as the call's store in memory).
const ADD_OPERATION_IF_HOSTED = `
if redis.call('HGET', KEYS[1], 'node') ~= ARGV[1] then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 1 then redis.call('RPUSH', KEYS[3], ARGV[2]) end
while redis.call('LLEN', KEYS[3]) > tonumber(ARGV[4]) do redis.call('HDEL', KEYS[2], redis.call('LPOP', KEYS[3])) end
return 1`;
// Takes the call if its node's registration expired (or it is this node's already): atomically,
// so two nodes asked at once about a dead node's call never both host it. ARGV[3] '0': do not
// take it, only say that its node is not registered.
const TAKE_IF_GONE = `
local node = redis.call('HGET', KEYS[1], 'node')
if not node then return {'unknown'} end
if node ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. node) == 1 then return {'elsewhere', node} end
if node ~= ARGV[1] and ARGV[3] == '0' then return {'unregistered', node} end
redis.call('HSET', KEYS[1], 'node', ARGV[1])
return {'taken', node}`;

/**
 * The domain's CallStateStore on the cluster's Redis (keys.ts has the layout). What cannot be
 * written while Redis is away is remembered (the latest state per identity) and written when it
 * is back; permissive changes are refused meanwhile by the domain (see CallStateStore).
 */
export class RedisCallStateStore implements CallStateStore {
  /** Latest unwritten state per call and identity (`callId\nkey`). */
  private readonly unsynced = new Map<string, { callId: string; key: string; state: StoredSpeaker }>();
  private readonly unsyncedSettings = new Map<string, StoredCallSettings>();
  /** Calls that ended here and whose end Redis has not taken yet (else a takeover would bring them back). */
  private readonly unsyncedEnds = new Set<string>();
  /**
   * What Redis refused while the connection looked up (OOM, READONLY, timeouts), by key
   * (`speaker:` + identity entry, `settings:` / `end:` + call): the store is not durable while any
   * of them is still unwritten.
   */
  private readonly refused = new Set<string>();
  /** A retryUnsynced() is running: the next heartbeat's does not start beside it. */
  private retrying = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly nodeId: string,
    private readonly logger: Logger,
    /** A call of this node that another node hosts now (this one was cut off too long): end it here. */
    private readonly onCallTakenOver: (callId: string) => void,
    /**
     * Redis does not know a call this node writes for (it lost its data, or the call is still
     * being created): if the call is hosted here, it is written again in full (resync).
     */
    private readonly onCallUnknown: (callId: string) => void,
  ) {}

  /** Whether a state written now is durable: Redis is connected, and nothing it refused is still unwritten. */
  get writable(): boolean {
    return this.redis.up && this.refused.size === 0;
  }

  /** States answered while Redis was away (or refused them) and not written yet (metric and /healthz). */
  get unsyncedStates(): number {
    return this.unsynced.size + this.unsyncedSettings.size + this.unsyncedEnds.size;
  }

  async saveCall(settings: StoredCallSettings): Promise<void> {
    await this.redis.client.multi().hset(callKey(settings.id), 'settings', JSON.stringify(settings), 'node', this.nodeId).exec().then(failedIfAny);
  }

  async updateCall(settings: StoredCallSettings): Promise<void> {
    this.unsyncedSettings.set(settings.id, settings);
    await this.writeSettings(settings);
  }

  async saveSpeaker(callId: string, key: string, state: StoredSpeaker): Promise<void> {
    const id = `${callId}\n${key}`;
    this.unsynced.set(id, { callId, key, state });
    await this.writeSpeaker(id, callId, key, state);
  }

  async endCall(callId: string): Promise<void> {
    this.forgetUnsynced(callId);
    this.unsyncedEnds.add(callId);
    await this.writeEnd(callId);
  }

  /**
   * A finished operation, so that it stays readable after its node is gone. Written after the
   * answer (not before it: the moderation state it changed is what must survive; an operation
   * finished in the node's very last moment may be missing). Best effort.
   */
  saveOperation(operation: Operation, capacity: number): void {
    if (!this.redis.up) return;
    const { callId } = operation;
    this.redis.client
      .eval(ADD_OPERATION_IF_HOSTED, 3, callKey(callId), operationsKey(callId), operationOrderKey(callId), this.nodeId, operation.id, JSON.stringify(operation), String(capacity))
      .catch(() => undefined);
  }

  /**
   * Where a call not hosted here is: unknown, hosted by a live node, or taken over by this one
   * (its node is gone) with its stored state. With `mayTake` false, a call whose node is not
   * registered is not taken (`unregistered`). Throws when Redis cannot be asked.
   */
  async locate(callId: string, mayTake = true): Promise<CallLocation> {
    const [kind, node] = (await this.redis.client.eval(TAKE_IF_GONE, 1, callKey(callId), this.nodeId, nodeKeyPrefix, mayTake ? '1' : '0')) as [string, string?];
    if (kind === 'unknown') return { kind: 'unknown' };
    if (kind === 'unregistered') return { kind: 'unregistered', nodeId: node as string };
    if (kind === 'elsewhere') return { kind: 'elsewhere', nodeId: node as string };
    const [[settings, rosterSequence], speakers, operations, order] = await Promise.all([
      this.redis.client.hmget(callKey(callId), 'settings', 'rosterSequence'),
      this.redis.client.hgetall(speakersKey(callId)),
      this.redis.client.hgetall(operationsKey(callId)),
      this.redis.client.lrange(operationOrderKey(callId), 0, -1),
    ]);
    if (!settings) return { kind: 'unknown' };
    if (node !== this.nodeId) this.logger.warn({ callId, previousNode: node }, 'took over a call whose node is gone');
    return {
      kind: 'taken',
      call: {
        settings: JSON.parse(settings) as StoredCallSettings,
        speakers: new Map(Object.entries(speakers).map(([key, value]) => [key, JSON.parse(value) as StoredSpeaker])),
        rosterSequence: Number(rosterSequence ?? 0),
        operations: order.flatMap((id) => (operations[id] === undefined ? [] : [revivedOperation(operations[id])])),
      },
    };
  }

  /**
   * Redis is back (or lost a call, or this node's registration lapsed): every call hosted here is
   * written again in full, so what was answered while Redis was away is there, even if Redis came
   * back empty; a call another node took over meanwhile ends here instead. Each call's state is
   * read from the domain (`current`) in the same turn its write is sent: a mute answered while
   * earlier calls were being written is sent after this write on the same connection, so Redis
   * never gets an older state after a newer one. Calls that ended here are ended there too.
   * Resolves with whether every call was written (or found taken over and ended here).
   */
  async resync(callIds: readonly string[], current: (callId: string) => StoredCall | undefined, operationsPerCall: number): Promise<boolean> {
    let complete = true;
    for (const callId of [...this.unsyncedEnds]) await this.writeEnd(callId);
    for (const id of callIds) {
      const stored = current(id);
      if (!stored) continue; // ended meanwhile
      const { settings, speakers, rosterSequence, operations } = stored;
      const callId = settings.id;
      const pairs = [...speakers].flatMap(([key, state]) => [key, JSON.stringify(state)]);
      // What this write covers: entries replaced later (a newer state on its way) stay unsynced.
      const covered = [...this.unsynced].filter(([, entry]) => entry.callId === callId);
      const coveredSettings = this.unsyncedSettings.get(callId);
      try {
        const written = await this.redis.client.eval(REWRITE_IF_NOT_TAKEN, 2, callKey(callId), speakersKey(callId), this.nodeId, JSON.stringify(settings), String(rosterSequence), ...pairs);
        this.refused.delete(`settings:${callId}`);
        for (const [key, entry] of covered) {
          if (this.unsynced.get(key) !== entry) continue;
          this.unsynced.delete(key);
          this.refused.delete(`speaker:${key}`);
        }
        if (this.unsyncedSettings.get(callId) === coveredSettings) this.unsyncedSettings.delete(callId);
        if (written === 0) {
          // Another node's now: nothing of it is this node's to write any more.
          this.forgetUnsynced(callId);
          this.onCallTakenOver(callId);
        } else for (const operation of operations) this.saveOperation(operation, operationsPerCall);
      } catch (err) {
        // Only a call still hosted here waits to be written again. One released meanwhile (a
        // concurrent resync found it taken over) must not stay "refused": no resync would ever
        // clear that, and the node would refuse new calls and unmutes for good.
        if (!current(callId)) continue;
        complete = false;
        this.refused.add(`settings:${callId}`);
        this.logger.warn({ err, callId }, 'could not write a call to Redis again; trying again shortly');
      }
    }
    return complete;
  }

  /**
   * Writes again what Redis refused while the connection looked up (a reconnect resyncs
   * everything anyway): the latest unwritten state of each identity and call, and calls that
   * ended. Called every heartbeat; nothing to do in the usual case.
   */
  async retryUnsynced(): Promise<void> {
    if (!this.redis.up || this.retrying) return;
    this.retrying = true;
    try {
      for (const callId of [...this.unsyncedEnds]) await this.writeEnd(callId);
      // Each entry is read again just before its write is sent: a newer state saved meanwhile
      // (and sent by saveSpeaker already) is what goes out, never the one this loop began with.
      for (const id of [...this.unsynced.keys()]) {
        const entry = this.unsynced.get(id);
        if (entry) await this.writeSpeaker(id, entry.callId, entry.key, entry.state);
      }
      for (const callId of [...this.unsyncedSettings.keys()]) {
        const settings = this.unsyncedSettings.get(callId);
        if (settings) await this.writeSettings(settings);
      }
    } finally {
      this.retrying = false;
    }
  }

  private forgetUnsynced(callId: string): void {
    for (const [id, entry] of this.unsynced) {
      if (entry.callId !== callId) continue;
      this.unsynced.delete(id);
      this.refused.delete(`speaker:${id}`);
    }
    this.unsyncedSettings.delete(callId);
    this.refused.delete(`settings:${callId}`);
  }

  private async writeEnd(callId: string): Promise<void> {
    if (!this.redis.up) return;
    try {
      // 0: another node hosts it now (or nobody does): nothing of this node's left to end.
      await this.redis.client.eval(END_IF_HOSTED, 4, callKey(callId), speakersKey(callId), operationsKey(callId), operationOrderKey(callId), this.nodeId);
      this.unsyncedEnds.delete(callId);
      this.refused.delete(`end:${callId}`);
    } catch (err) {
      this.refused.add(`end:${callId}`);
      this.logger.warn({ err, callId }, 'could not end a call in Redis; trying again shortly');
    }
  }

  private async writeSpeaker(id: string, callId: string, key: string, state: StoredSpeaker): Promise<void> {
    if (!this.redis.up) return;
    try {
      const written = await this.redis.client.eval(WRITE_IF_HOSTED, 2, callKey(callId), speakersKey(callId), this.nodeId, key, JSON.stringify(state));
      if (written === -1) return this.onCallUnknown(callId); // stays unsynced until written in full
      // Only if no newer state of the same identity is waiting (it replaced this entry).
      if (this.unsynced.get(id)?.state === state) {
        this.unsynced.delete(id);
        this.refused.delete(`speaker:${id}`);
      }
      if (written === 0) this.onCallTakenOver(callId);
    } catch (err) {
      this.refused.add(`speaker:${id}`);
      this.logger.warn({ err, callId }, 'could not write a moderation state to Redis; it is written again shortly');
    }
  }

  private async writeSettings(settings: StoredCallSettings): Promise<void> {
    if (!this.redis.up) return;
    try {
      const written = await this.redis.client.eval(WRITE_SETTINGS_IF_HOSTED, 1, callKey(settings.id), this.nodeId, JSON.stringify(settings));
      if (written === -1) return this.onCallUnknown(settings.id);
      if (this.unsyncedSettings.get(settings.id) === settings) {
        this.unsyncedSettings.delete(settings.id);
        this.refused.delete(`settings:${settings.id}`);
      }
      if (written === 0) this.onCallTakenOver(settings.id);
    } catch (err) {
      this.refused.add(`settings:${settings.id}`);
      this.logger.warn({ err, callId: settings.id }, 'could not write call settings to Redis; they are written again shortly');
    }
  }
}

/** An operation as JSON gave it back: its times are Dates again. */
function revivedOperation(json: string): Operation {
  const parsed = JSON.parse(json) as Operation & { createdDateTime: string; lastActionDateTime: string };
  return { ...parsed, createdDateTime: new Date(parsed.createdDateTime), lastActionDateTime: new Date(parsed.lastActionDateTime) };
}

/** A MULTI's replies: the first error, if any, fails the whole write. */
function failedIfAny(replies: [Error | null, unknown][] | null): void {
  if (replies === null) throw new Error('the Redis transaction was aborted');
  const failed = replies.find(([err]) => err !== null);
  if (failed) throw failed[0] as Error;
}
