import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import { type ApiResponse, metricValue, outcomeOf, sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince } from '../../helpers/rtpCall.js';

/**
 * Faults become wrong answers no more (issue 9, point 6). A domain event listener that throws
 * is logged and counted and changes nothing: the mute the worker confirmed is completed (and
 * RTP really stops), a join is a 201. Joins in flight while the media worker dies are 503
 * callMediaLost, never 500, and leave no participant behind.
 */

/** Log lines the gateway wrote, parsed. */
class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line.trim()) this.lines.push(JSON.parse(line));
    done();
  }
}

const counter = (metrics: string, event: string) => metricValue(metrics, `mutegate_event_listener_errors_total{event="${event}"}`) || 0;

describe('a throwing event listener changes no outcome (real gateway, real worker, real UDP)', () => {
  const logs = new LogCapture();
  const fixture = useGateway({}, pino({ level: 'warn' }, logs));
  const peers: RtpPeer[] = [];
  const clients: RosterClient[] = [];

  beforeAll(async () => {
    // The test gateway, with a logger whose lines the test reads.
  });
  afterAll(async () => {
    for (const p of peers) p.close();
    for (const c of clients) c.close();
  });

  it('completes a confirmed mute (RTP stops), a join and an unmute while roster and operation listeners throw', async () => {
    const callId = await createGroupCall(fixture.api);
    const a = await joinRtp(fixture.api, callId);
    const b = await joinRtp(fixture.api, callId);
    peers.push(a.peer, b.peer);
    a.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 10, 5000, 'A → B');
    const watcher = await RosterClient.connect(fixture.gateway.url, 'json');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));
    const before = (await fixture.api.get('/metrics')).body as string;

    // In front of the gateway's own listeners (WebSocket roster, webhooks, CometD, metrics):
    // those behind a throwing listener must still be called.
    fixture.gateway.service.prependListener('roster', () => {
      throw new Error('roster listener bug (test)');
    });
    fixture.gateway.service.prependListener('operationFinished', () => {
      throw new Error('metrics listener bug (test)');
    });

    const mute = await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, { clientContext: 'despite-listeners' });
    const counterAtMuteAck = a.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    expect(mute.body).toMatchObject({ status: 'completed', clientContext: 'despite-listeners', resultInfo: null });
    const stored = await fixture.api.get(mute.headers.get('location') as string);
    expect(stored.body).toMatchObject({ status: 'completed', resultInfo: null });
    // The worker really drops A's RTP while A keeps streaming.
    await sleep(1000);
    expect(a.peer.nextCounter - counterAtMuteAck).toBeGreaterThanOrEqual(30);
    await sleep(200);
    expect(receivedSince(b.peer, a.peer, counterAtMuteAck)).toBe(0);
    // The subscriber behind the throwing listener got the change.
    await waitFor(() => watcher.deltas().some((d) => d.change === 'updated' && d.participants[0]?.id === a.id && d.participants[0]?.isMuted), 3000, 'the mute delta');

    // A join is a 201 and stays; an unmute is a 200 and A is heard again.
    const c = await joinRtp(fixture.api, callId);
    peers.push(c.peer);
    const listed = (await fixture.api.get(`/communications/calls/${callId}/participants`)).body.value.map((p: { id: string }) => p.id);
    expect(listed).toContain(c.id);
    const unmute = await fixture.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {});
    expect(unmute.status, JSON.stringify(unmute.body)).toBe(200);
    const counterAtUnmute = a.peer.nextCounter;
    await waitFor(() => receivedSince(b.peer, a.peer, counterAtUnmute) >= 5, 5000, 'A → B after unmute');

    // Counted per event, in /metrics; the metrics' own listener (behind the thrower) still counted the mutes.
    const after = (await fixture.api.get('/metrics')).body as string;
    expect(counter(after, 'roster') - counter(before, 'roster')).toBeGreaterThanOrEqual(3); // mute, join, unmute
    expect(counter(after, 'operationFinished') - counter(before, 'operationFinished')).toBe(2); // mute, unmute
    const completedMutes = (m: string) => metricValue(m, 'mutegate_mute_operations_total{operation="mute",result="completed"}') || 0;
    expect(completedMutes(after) - completedMutes(before)).toBe(1);
    // Logged as errors, with the event name.
    const logged = logs.lines.filter((l) => l.msg === 'a domain event listener failed');
    expect(logged.map((l) => l.event)).toEqual(expect.arrayContaining(['roster', 'operationFinished']));
    expect(logged.every((l) => l.level === 50)).toBe(true);
    fixture.gateway.service.removeAllListeners('roster');
  });
});

describe('joins while the media worker dies (real worker, kill -9)', () => {
  const fixture = useGateway({ MUTEGATE_MEDIA_NUM_WORKERS: '1' });
  const peers: RtpPeer[] = [];

  afterEach(() => {
    for (const p of peers.splice(0)) p.close();
  });

  it('answers 201 or 503 callMediaLost, never 500, and leaves no participant behind', async () => {
    const callId = await createGroupCall(fixture.api);
    const first = await joinRtp(fixture.api, callId);
    peers.push(first.peer);
    const [pid] = fixture.gateway.pool.pids;

    // A stream of joins (and calls with the application's own leg); the worker is killed in the middle of it.
    const joins: Promise<{ userId: string; res: ApiResponse }>[] = [];
    const calls: Promise<ApiResponse>[] = [];
    let port = 47_000;
    for (let i = 0; i < 40; i++) {
      const userId = `crash-${i}`;
      const body = { info: { identity: { user: { id: userId } } }, media: { kind: 'rtp', payloadType: 100, ssrc: 5000 + i, receive: { ip: '127.0.0.1', port: port++ } } };
      joins.push(fixture.api.post(`/communications/calls/${callId}/participants`, body).then((res) => ({ userId, res })));
      if (i % 8 === 0) {
        calls.push(
          fixture.api.post('/communications/calls', {
            source: { identity: { application: { id: `app-${i}` } } },
            media: { kind: 'rtp', payloadType: 100, ssrc: 9000 + i, receive: { ip: '127.0.0.1', port: port++ } },
          }),
        );
      }
      if (i === 12) process.kill(pid as number, 'SIGKILL');
      await sleep(2);
    }
    const joined = await Promise.all(joins);
    const created = await Promise.all(calls);

    for (const { userId, res } of joined) {
      expect(['201', '503 callMediaLost'], `${userId}: ${res.status} ${JSON.stringify(res.body)}`).toContain(outcomeOf(res));
    }
    for (const res of created) {
      expect(['201', '503 callMediaLost', '503 mediaRequestFailed'], `${res.status} ${JSON.stringify(res.body)}`).toContain(outcomeOf(res));
    }
    const lost = joined.filter((j) => j.res.status === 503);
    expect(lost.length, 'joins that met the dead worker').toBeGreaterThan(0);

    // The call recovers; exactly the joins that got a 201 are in it, none of the refused ones.
    await waitFor(() => fixture.gateway.pool.pids.length === 1 && fixture.gateway.pool.pids[0] !== pid, 10_000, 'a replacement worker');
    const state = async () => (await fixture.api.get(`/communications/calls/${callId}`)).body.mediaState?.audio;
    for (let i = 0; i < 200 && (await state()) !== 'active'; i++) await sleep(50);
    expect(await state()).toBe('active');
    const listed = (await fixture.api.get(`/communications/calls/${callId}/participants`)).body.value as { id: string; info: { identity: { user: { id: string } } } }[];
    const expected = [first.userId, ...joined.filter((j) => j.res.status === 201).map((j) => j.userId)].sort();
    expect(listed.map((p) => p.info.identity.user.id).sort()).toEqual(expected);
    const calls201 = created.filter((r) => r.status === 201).map((r) => r.body.id as string);
    const allCalls = (await fixture.api.get('/communications/calls')).body.value.map((c: { id: string }) => c.id).sort();
    expect(allCalls).toEqual([callId, ...calls201].sort());
    for (const id of calls201) expect((await fixture.api.get(`/communications/calls/${id}`)).body.myParticipantId).toEqual(expect.any(String));

    // A refused identity joins normally now.
    const retry = await fixture.api.post(`/communications/calls/${callId}/participants`, {
      info: { identity: { user: { id: (lost[0] as { userId: string }).userId } } },
      media: { kind: 'rtp', payloadType: 100, ssrc: 7777, receive: { ip: '127.0.0.1', port: 47_999 } },
    });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
  });
});
