import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../native-bench/lib/RtpPeer.js';
import { parseServerTiming } from '../../native-bench/lib/hops.js';
import { metricValue, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient, type AnyMessage } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp } from '../helpers/rtpCall.js';

/**
 * The mute path (issue 10): what a mute's reply carries about its own time (Server-Timing), and
 * that the work moved after the reply (roster encoding, counters, no request log lines) is still
 * done, and done right.
 */
describe('the mute path', () => {
  const logLines: { level: number; msg: string }[] = [];
  // An info-level logger that keeps its lines, to see what a request logs.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  const fixture = useGateway({}, pino({ level: 'info' }, sink));
  const peers: RtpPeer[] = [];

  afterAll(async () => {
    for (const peer of peers) peer.close();
  });

  it('says in Server-Timing where a mute spent its time, hop by hop, the worker round trip included', async () => {
    const callId = await createGroupCall(fixture.api);
    const speaker = await joinRtp(fixture.api, callId);
    const listener = await joinRtp(fixture.api, callId);
    peers.push(speaker.peer, listener.peer);

    for (const action of ['mute', 'unmute'] as const) {
      const res = await fixture.api.post(`/communications/calls/${callId}/participants/${speaker.id}/${action}`, { clientContext: 'hops' });
      expect(res.status).toBe(200);
      const header = res.headers.get('server-timing');
      expect(header, `${action} has Server-Timing`).toBeTruthy();
      const timing = parseServerTiming(header as string);
      expect(Object.keys(timing)).toEqual(['route', 'auth', 'parse', 'command', 'queue', 'worker', 'apply', 'resume', 'reply', 'total']);
      for (const value of Object.values(timing)) expect(value).toBeGreaterThanOrEqual(0);
      // Consecutive marks: the hops add up to the total (each rounded to a microsecond).
      const sum = Object.entries(timing).reduce((s, [name, v]) => (name === 'total' ? s : s + v), 0);
      expect(Math.abs(sum - (timing.total as number))).toBeLessThan(0.01);
      expect(timing.worker).toBeGreaterThan(0);
    }
    // Only answered mutes carry it.
    const missing = await fixture.api.post(`/communications/calls/${callId}/participants/00000000-0000-0000-0000-000000000000/mute`, {});
    expect(missing.status).toBe(404);
    expect(missing.headers.get('server-timing')).toBeNull();
  });

  it('counts a mute before anyone can scrape it, and logs no line per request served', async () => {
    const callId = await createGroupCall(fixture.api);
    const speaker = await joinRtp(fixture.api, callId);
    peers.push(speaker.peer);
    const series = 'mutegate_mute_operations_total{operation="mute",result="completed"}';
    const before = metricValue((await fixture.api.get('/metrics')).body, series) || 0;
    const linesBefore = logLines.length;
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${speaker.id}/mute`, {})).status).toBe(200);
    expect(metricValue((await fixture.api.get('/metrics')).body, series)).toBe(before + 1);
    const requestLines = logLines.slice(linesBefore).filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');
    expect(requestLines).toEqual([]);
  });

  it('sends each roster delta with the state of its moment, even when two changes come in one turn', async () => {
    const callId = await createGroupCall(fixture.api);
    const speaker = await joinRtp(fixture.api, callId);
    peers.push(speaker.peer);
    const clients = [await RosterClient.connect(fixture.gateway.url, 'json'), await RosterClient.connect(fixture.gateway.url, 'proto')];
    try {
      for (const client of clients) {
        const id = client.request({ type: 'subscribe', callId });
        await client.answer(id);
      }
      const call = fixture.gateway.service.getCall(callId);
      const participant = call.participants.get(speaker.id);
      if (!participant) throw new Error('no participant');
      const ssrc = participant.sourceId;
      // Two confirmed changes in one turn (as a moderation action can make): a raised hand, then
      // a mute with the hand lowered and a new send stream. The first delta must not show the second.
      participant.speaker.handRaised = true;
      fixture.gateway.service.emitUpdated(call, participant);
      participant.speaker.handRaised = false;
      participant.speaker.muted = true;
      participant.mediaSpec = { ...participant.mediaSpec, kind: 'rtp', payloadType: 100, ssrc: 4242 } as typeof participant.mediaSpec;
      fixture.gateway.service.emitUpdated(call, participant);

      const states = (client: RosterClient) =>
        client.messages.flatMap((m: AnyMessage) => {
          if (client.encoding === 'json') {
            if (m['@mutegate.kind'] !== 'delta') return [];
            const p = m.value[0].resourceData[0];
            return [{ isMuted: p.isMuted, handRaised: p.handRaised, sourceId: p.mediaStreams[0].sourceId }];
          }
          if (!m.delta) return [];
          const p = m.delta.participants[0];
          return [{ isMuted: p.isMuted ?? false, handRaised: p.handRaised ?? false, sourceId: p.sourceId }];
        });
      await waitFor(() => clients.every((c) => states(c).length === 2), 3000, 'two deltas at each subscriber');
      for (const client of clients) {
        expect(states(client), client.encoding).toEqual([
          { isMuted: false, handRaised: true, sourceId: ssrc },
          { isMuted: true, handRaised: false, sourceId: '4242' },
        ]);
      }
    } finally {
      for (const client of clients) client.close();
    }
  });
});
