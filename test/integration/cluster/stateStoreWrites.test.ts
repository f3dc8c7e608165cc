import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeRegistry } from '../../../src/cluster/NodeRegistry.js';
import { RedisCallStateStore } from '../../../src/cluster/RedisCallStateStore.js';
import { RedisConnection } from '../../../src/cluster/RedisConnection.js';
import { callKey, nodeKey, speakersKey } from '../../../src/cluster/keys.js';
import type { StoredCall, StoredCallSettings, StoredSpeaker } from '../../../src/control/callStateStore.js';
import { waitFor } from '../../helpers/gateway.js';
import { RedisServer } from '../../helpers/redisServer.js';

/**
 * The cluster's state store and node registry against a real redis-server, in the faults the
 * gateway-level cluster tests cannot stage: Redis refusing writes while connected (as a
 * read-only replica or an out-of-memory Redis does), a resync racing a mute, a registration that expired while the node stayed connected.
 */
describe('cluster state store: writes that must not be lost', () => {
  let redis: RedisServer;
  const open: { close(): void }[] = [];
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    redis = await RedisServer.start();
  }, 30_000);
  afterEach(async () => {
    for (const o of open.splice(0)) o.close();
    const admin = redis.client();
    await admin.call('ACL', 'SETUSER', 'default', '+@all');
    await admin.flushall();
    admin.disconnect();
  });
  afterAll(async () => {
    await redis?.kill();
  });

  async function connect(): Promise<RedisConnection> {
    const connection = new RedisConnection(redis.url, 500, 1000, logger);
    open.push(connection);
    await connection.start(3000);
    return connection;
  }

  const settingsOf = (id: string): StoredCallSettings => ({ id, kind: 'group', createdDateTime: new Date(0).toISOString(), targets: [], muteOnEntry: false, forwarding: { mode: 'all' } });
  const speaker = (muted: boolean): StoredSpeaker => ({ muted, locked: false, deafened: false, handRaised: false, hasJoined: true });
  const storeOn = (connection: RedisConnection, nodeId: string, takenOver: string[] = []) =>
    new RedisCallStateStore(connection, nodeId, logger, (callId) => takenOver.push(callId), () => undefined);

  /**
   * Makes Redis refuse the store's writes (its Lua scripts) while the connection stays up, as a
   * read-only replica or an out-of-memory Redis would: the default user loses EVAL.
   */
  async function refuseWrites(on: boolean): Promise<void> {
    const admin = redis.client();
    await admin.call('ACL', 'SETUSER', 'default', on ? '-eval' : '+@all');
    admin.disconnect();
  }

  it('a mute Redis refused while connected is written at the next retry, and the store is not durable until then', async () => {
    const connection = await connect();
    const store = storeOn(connection, 'node-a');
    await store.saveCall(settingsOf('call-1'));
    await refuseWrites(true);
    await store.saveSpeaker('call-1', 'user:x', speaker(true));
    // Connected, but the mute is not in Redis: not durable, so permissive changes must wait.
    expect(connection.up).toBe(true);
    expect(store.writable).toBe(false);
    expect(store.unsyncedStates).toBe(1);
    await refuseWrites(false);
    await store.retryUnsynced();
    const admin = redis.client();
    expect(JSON.parse((await admin.hget(speakersKey('call-1'), 'user:x')) ?? 'null')).toMatchObject({ muted: true });
    admin.disconnect();
    expect(store.writable).toBe(true);
    expect(store.unsyncedStates).toBe(0);
  });

  it('a retry never writes an older state over a mute answered while it runs', async () => {
    const connection = await connect();
    const store = storeOn(connection, 'node-a');
    await store.saveCall(settingsOf('call-5'));
    await refuseWrites(true);
    // Refused: first y's state, then x unmuted (answered while Redis refused: permissive, but the
    // domain had let it through before the refusal was known).
    await store.saveSpeaker('call-5', 'user:y', speaker(true));
    await store.saveSpeaker('call-5', 'user:x', speaker(false));
    await refuseWrites(false);
    // The heartbeat's retry starts (y first); meanwhile x is muted and its write sent.
    const retry = store.retryUnsynced();
    const mute = store.saveSpeaker('call-5', 'user:x', speaker(true));
    await Promise.all([retry, mute]);
    const admin = redis.client();
    expect(JSON.parse((await admin.hget(speakersKey('call-5'), 'user:x')) ?? 'null')).toMatchObject({ muted: true });
    admin.disconnect();
    expect(store.unsyncedStates).toBe(0);
    expect(store.writable).toBe(true);
  });

  it('a call that ended while Redis refused writes is ended there at the next retry (no takeover brings it back)', async () => {
    const connection = await connect();
    const store = storeOn(connection, 'node-a');
    await store.saveCall(settingsOf('call-2'));
    await store.saveSpeaker('call-2', 'user:x', speaker(true));
    await refuseWrites(true);
    await store.endCall('call-2');
    const admin = redis.client();
    expect(await admin.exists(callKey('call-2'))).toBe(1);
    await refuseWrites(false);
    await store.retryUnsynced();
    expect(await admin.exists(callKey('call-2'), speakersKey('call-2'))).toBe(0);
    admin.disconnect();
    expect(store.unsyncedStates).toBe(0);
  });

  it('a resync writes each call as it is when its write is sent: a mute answered meanwhile is not overwritten', async () => {
    const connection = await connect();
    const store = storeOn(connection, 'node-a');
    // The domain's state, as the resync reads it call by call.
    const domain = new Map<string, StoredCall>();
    for (const id of ['call-3', 'call-4']) {
      await store.saveCall(settingsOf(id));
      domain.set(id, { settings: settingsOf(id), speakers: new Map([['user:x', speaker(false)]]), rosterSequence: 1, operations: [] });
    }
    let muted = false;
    const current = (callId: string): StoredCall | undefined => {
      const call = domain.get(callId);
      if (callId === 'call-3' && !muted) {
        // While call-3's rewrite is on its way, x is muted in call-4 and the mute's write is sent.
        muted = true;
        queueMicrotask(() => {
          domain.get('call-4')?.speakers.set('user:x', speaker(true));
          void store.saveSpeaker('call-4', 'user:x', speaker(true));
        });
      }
      return call && { ...call, speakers: new Map(call.speakers) };
    };
    await store.resync(['call-3', 'call-4'], current, 100);
    const admin = redis.client();
    expect(JSON.parse((await admin.hget(speakersKey('call-4'), 'user:x')) ?? 'null')).toMatchObject({ muted: true });
    admin.disconnect();
  });

  it('a node whose registration expired while it stayed connected finds out at its next heartbeat', async () => {
    const connection = await connect();
    let lapses = 0;
    const registry = new NodeRegistry(connection, 'node-a', {
      url: () => 'http://127.0.0.1:1',
      load: () => ({ calls: 0, participants: 0 }),
      heartbeatMs: 100,
      nodeTtlMs: 5000,
      onLapsed: () => lapses++,
    });
    registry.start();
    open.push({ close: () => void registry.close() });
    const admin = redis.client();
    for (const until = Date.now() + 2000; (await admin.exists(nodeKey('node-a'))) === 0; ) {
      if (Date.now() > until) throw new Error('node-a did not register within 2 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    // Renewals that find their own registration: no lapse.
    await new Promise((r) => setTimeout(r, 350));
    expect(lapses).toBe(0);
    // As if it had expired (a stalled event loop, heartbeats that timed out): the others count
    // the node as gone and may take its calls.
    await admin.del(nodeKey('node-a'));
    await waitFor(() => lapses === 1, 2000, 'the lapse noticed');
    admin.disconnect();
  });
});
