import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtpPeer } from '../../../native-bench/lib/RtpPeer.js';
import type { Gateway } from '../../../src/gateway.js';
import { apiClient, metricValue, sleep, startTestGateway, waitFor } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PACKET_INTERVAL_MS, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';

const BOUND_MS = 500;

/**
 * A mute the frozen worker cannot confirm answers 503 muteNotConfirmed (fail closed). The worker,
 * once it runs again, reads up to 32 datagrams from each ready UDP socket before its channel
 * (where the pause and the close wait): libuv's uv__udp_io loop, and the socket was ready before
 * the channel. test/integration/muteConfirmTimeout.test.ts streams 50 packets/s through the
 * freeze, so the 32 read first are all older than the 503. A participant in silence sends little
 * (Opus DTX: one small packet per 400 ms): its backlog is a packet or two, and the speech it starts
 * after the 503 fills the rest of those 32 reads. This pins down what the 503 really covers (see
 * README "A mute under load"): at most 32 datagrams of the participant's leg, however recent,
 * and nothing once the worker has read its channel. Closing the gap needs the worker to read its
 * channel before its UDP sockets (a worker patch) or to be killed on a timeout; see the README.
 */
describe('hostile: a DTX sender whose mute could not be confirmed (frozen worker)', () => {
  let gateway: Gateway;
  let api: ReturnType<typeof apiClient>;
  let workerPid: number;
  const peers: RtpPeer[] = [];
  let frozen = false;
  const freeze = () => {
    process.kill(workerPid, 'SIGSTOP');
    frozen = true;
  };
  const thaw = () => {
    process.kill(workerPid, 'SIGCONT');
    frozen = false;
  };

  beforeAll(async () => {
    gateway = await startTestGateway({ MUTEGATE_MEDIA_NUM_WORKERS: '1', MUTEGATE_MEDIA_MUTE_CONFIRM_TIMEOUT_MS: String(BOUND_MS) });
    api = apiClient(gateway.url);
    workerPid = gateway.pool.pids[0] as number;
  });
  afterEach(() => {
    if (frozen) thaw();
  });
  afterAll(async () => {
    if (frozen) thaw();
    for (const p of peers) p.close();
    await gateway?.close();
  });

  it('after the 503, forwards at most the 32 datagrams read before the channel, even those sent after the 503, and then nothing', async () => {
    const callId = await createGroupCall(api);
    const a: RtpParticipant = await joinRtp(api, callId);
    const b = await joinRtp(api, callId);
    peers.push(a.peer, b.peer);
    const sendOne = () => a.peer.sendOne({ to: a.send, payloadType: PAYLOAD_TYPE, ssrc: a.ssrc, payloadBytes: 80 });
    for (let i = 0; i < 10; i++) {
      sendOne();
      await sleep(PACKET_INTERVAL_MS);
    }
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A heard by B');

    freeze();
    // Silence with DTX: one packet reaches the frozen worker's socket before the mute request.
    sendOne();
    await sleep(50);
    const res = await api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.innerError.code).toBe('muteNotConfirmed');
    const atAnswer = a.peer.nextCounter;
    // A starts speaking after the answer; the worker is still frozen (60 packets: more than one read batch).
    for (let i = 0; i < 60; i++) {
      sendOne();
      if (i % 10 === 9) await sleep(PACKET_INTERVAL_MS);
    }
    thaw();
    await sleep(300);
    const leaked = receivedSince(b.peer, a.peer, atAnswer);
    console.log(`frozen worker, DTX backlog: ${leaked} packets A sent after the 503 reached B`);
    // One read batch at most (32 datagrams, the DTX packet among them): the channel comes next.
    expect(leaked, 'packets A sent after the 503 that reached B').toBeLessThanOrEqual(31);
    // Once the worker has read the pause and the close, nothing more.
    const afterThaw = a.peer.nextCounter;
    for (let i = 0; i < 20; i++) {
      sendOne();
      await sleep(PACKET_INTERVAL_MS);
    }
    await sleep(300);
    expect(receivedSince(b.peer, a.peer, afterThaw)).toBe(0);
  });

  it('a resume confirmed after the bound does not erase what the mute counts: the packets dropped while muted are still reported at the next unmute', async () => {
    const dropped = async () => metricValue((await api.get('/metrics')).body as string, 'mutegate_muted_packets_dropped_total') || 0;
    const callId = await createGroupCall(api);
    const a = await joinRtp(api, callId);
    const b = await joinRtp(api, callId);
    peers.push(a.peer, b.peer);
    a.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5, 5000, 'A heard by B');
    expect((await api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    await sleep(300);

    // An unmute the frozen worker cannot confirm: 503, the pause goes right behind the resume.
    freeze();
    const unmute = await api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {});
    expect(unmute.status, JSON.stringify(unmute.body)).toBe(503);
    expect(unmute.body.error.innerError.code).toBe('unmuteNotConfirmed');
    thaw();
    // The late resume and the pause behind it are confirmed; A stays muted and keeps sending.
    await sleep(600);
    const atRemute = a.peer.nextCounter;
    await sleep(400);
    expect(receivedSince(b.peer, a.peer, atRemute)).toBe(0);

    const before = await dropped();
    expect((await api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {})).status).toBe(200);
    // A sent ~70 packets while muted (50/s for about 1.4 s): all dropped by the worker and counted now.
    expect((await dropped()) - before, 'packets dropped while muted, reported at the confirmed unmute').toBeGreaterThanOrEqual(20);
    a.peer.stop();
  });
});
