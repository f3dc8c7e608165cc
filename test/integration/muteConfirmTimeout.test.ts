import { afterAll, describe, expect, it } from 'vitest';
import { nowMs } from '../../native-bench/lib/RtpPeer.js';
import { metricValue, sleep, waitFor, useFreezableWorker } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince, type RtpParticipant } from '../helpers/rtpCall.js';

/** media.muteConfirmTimeoutMs for this gateway. */
const BOUND_MS = 500;
/** What the answer may take beyond the bound (timer, HTTP, a loaded 2-core machine). */
const SLACK_MS = 400;
/**
 * How long the worker is frozen before the request. A frozen worker's UDP sockets keep
 * buffering what participants send, and when it runs again it reads up to 32 datagrams per
 * socket before it reads the channel (libuv's UDP read loop): a second of backlog (50 packets)
 * before the answer puts every packet sent after the answer behind the pause and the close.
 */
const FROZEN_BEFORE_MS = 500;

/**
 * The confirmation bound with the REAL worker: its process is frozen (SIGSTOP) while RTP flows,
 * so it confirms nothing until SIGCONT. A mute answers 503 muteNotConfirmed within the bound and
 * fails closed; an unmute answers 503 unmuteNotConfirmed and the participant stays muted; what
 * the worker does when it runs again forwards nothing the participant sent after the answer,
 * and flips no state. The gateway stays healthy: same worker, other participants and calls work.
 */
describe('a mute the frozen worker cannot confirm in time (real worker, SIGSTOP, real RTP)', () => {
  const fx = useFreezableWorker({ MUTEGATE_MEDIA_MUTE_CONFIRM_TIMEOUT_MS: String(BOUND_MS) });
  const clients: RosterClient[] = [];
  afterAll(() => {
    for (const c of clients) c.close();
  });

  const failedMutes = async (operation: 'mute' | 'unmute') =>
    metricValue((await fx.api.get('/metrics')).body as string, `mutegate_mute_operations_total{operation="${operation}",result="failed"}`) || 0;
  const join = async (callId: string, userId?: string): Promise<RtpParticipant> => {
    const p = await joinRtp(fx.api, callId, userId ? { userId } : {});
    fx.peers.push(p.peer);
    return p;
  };

  it('mute: 503 muteNotConfirmed within the bound, the stalled worker is stopped and the call rebuilt, stays muted, stored and counted as failed; nothing sent after the 503 reaches anyone', async () => {
    const callId = await createGroupCall(fx.api);
    const a = await join(callId);
    const b = await join(callId);
    const c = await join(callId);
    for (const p of [a, b, c]) p.startStreaming();
    await waitFor(() => receivedSince(b.peer, a.peer, 0) >= 5 && receivedSince(c.peer, b.peer, 0) >= 5, 5000, 'A → B and B → C');
    const watcher = await RosterClient.connect(fx.gateway.url, 'json');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));
    const failedBefore = await failedMutes('mute');

    fx.freeze();
    await sleep(FROZEN_BEFORE_MS);
    const asked = performance.now();
    const res = await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, { clientContext: 'frozen-worker' });
    const took = performance.now() - asked;
    const aAtAnswer = a.peer.nextCounter;
    const answeredAtMs = nowMs();
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.innerError.code).toBe('muteNotConfirmed');
    expect(took).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(took).toBeLessThan(BOUND_MS + SLACK_MS);
    // The answer did not wait for the worker, and the stalled worker was stopped for good (it
    // would have forwarded what waits in its socket, sent after the 503 included): replaced.
    const stalledPid = fx.workerPid;
    expect(res.body.error.message).toContain('stopped');
    await waitFor(() => !fx.gateway.pool.pids.includes(stalledPid) && fx.gateway.pool.pids.length === 1, 5000, 'the stalled worker replaced');

    const operationPath = res.headers.get('location') as string;
    expect(operationPath).toMatch(/\/operations\//);
    const stored = (await fx.api.get(operationPath)).body;
    expect(stored).toMatchObject({ status: 'failed', clientContext: 'frozen-worker', resultInfo: { code: 503 } });
    const shown = (await fx.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body;
    expect(shown.isMuted).toBe(true);
    await waitFor(() => watcher.deltas().some((d) => d.participants.some((p) => p.id === a.id && p.isMuted)), 2000, 'the roster says A is muted');
    const deltasAtAnswer = watcher.deltas().length;
    expect(await failedMutes('mute')).toBe(failedBefore + 1);

    // Nothing of A reaches anyone after the 503: what waited in the stalled worker died with it.
    await sleep(800);
    expect(a.peer.nextCounter - aAtAnswer).toBeGreaterThanOrEqual(25);
    expect(receivedSince(b.peer, a.peer, aAtAnswer)).toBe(0);
    expect(receivedSince(c.peer, a.peer, aAtAnswer)).toBe(0);
    const lateArrivals = [b, c].flatMap((p) => p.peer.from(a.peer.senderId).filter((x) => x.receivedAtMs > answeredAtMs));
    expect(lateArrivals).toEqual([]);

    // The call's media is rebuilt on the new worker; nothing in it says A was unmuted.
    await waitFor(() => !fx.gateway.service.getCall(callId).mediaLost, 5000, 'the call rebuilt');
    expect((await fx.api.get(operationPath)).body.status).toBe('failed');
    expect((await fx.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body.isMuted).toBe(true);
    expect(watcher.deltas().slice(deltasAtAnswer).filter((d) => d.participants.some((p) => p.id === a.id && !p.isMuted))).toEqual([]);
    expect(await failedMutes('mute')).toBe(failedBefore + 1);

    // The gateway is healthy: a new call works, and mutes are confirmed again.
    expect((await fx.api.get('/healthz')).body).toEqual({ status: 'ok', workers: 1 });
    const other = await createGroupCall(fx.api);
    const x = await join(other);
    const y = await join(other);
    x.startStreaming();
    await waitFor(() => receivedSince(y.peer, x.peer, 0) >= 5, 5000, 'X → Y in a new call');
    const muteX = await fx.api.post(`/communications/calls/${other}/participants/${x.id}/mute`, {});
    expect(muteX.status).toBe(200);
    expect(muteX.body.status).toBe('completed');

    // A rejoins (same identity): muted, and its new stream reaches nobody.
    const again = await join(callId, a.userId);
    expect((await fx.api.get(`/communications/calls/${callId}/participants/${again.id}`)).body.isMuted).toBe(true);
    again.startStreaming();
    await sleep(400);
    expect(again.peer.nextCounter).toBeGreaterThanOrEqual(15);
    expect(receivedSince(c.peer, again.peer, 0)).toBe(0);
    for (const p of [a, b, c, x, again]) p.peer.stop();
  });

  it('unmute: 503 unmuteNotConfirmed within the bound, stays muted; the late resume is paused again, nothing of it reaches anyone', async () => {
    const callId = await createGroupCall(fx.api);
    const a = await join(callId);
    const b = await join(callId);
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    a.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(a.peer, b.peer, 0) >= 5, 5000, 'B → A');
    const aMutedFrom = a.peer.nextCounter;
    const watcher = await RosterClient.connect(fx.gateway.url, 'json');
    clients.push(watcher);
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));
    const failedBefore = await failedMutes('unmute');

    fx.freeze();
    await sleep(FROZEN_BEFORE_MS);
    const asked = performance.now();
    const res = await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {});
    const took = performance.now() - asked;
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.innerError.code).toBe('unmuteNotConfirmed');
    expect(took).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(took).toBeLessThan(BOUND_MS + SLACK_MS);
    expect((await fx.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body.isMuted).toBe(true);
    const operationPath = res.headers.get('location') as string;
    expect((await fx.api.get(operationPath)).body.status).toBe('failed');
    expect(await failedMutes('unmute')).toBe(failedBefore + 1);

    fx.thaw();
    // The worker reads the resume and the pause behind it in one go: A never flows.
    const bAfter = b.peer.nextCounter;
    await waitFor(() => receivedSince(a.peer, b.peer, bAfter) >= 10, 5000, 'B → A after the worker runs again');
    await sleep(500);
    expect(receivedSince(b.peer, a.peer, aMutedFrom)).toBe(0);
    expect((await fx.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body.isMuted).toBe(true);
    expect((await fx.api.get(operationPath)).body.status).toBe('failed');
    // Nothing told anyone A was unmuted (other roster news, e.g. talkingWhileMuted, may come).
    expect(watcher.deltas().filter((d) => d.participants.some((p) => p.id === a.id && !p.isMuted))).toEqual([]);

    // A kept its media: a confirmed unmute now lets it through.
    const unmute = await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/unmute`, {});
    expect(unmute.status).toBe(200);
    const aFrom = a.peer.nextCounter;
    await waitFor(() => receivedSince(b.peer, a.peer, aFrom) >= 5, 5000, 'A → B after a confirmed unmute');
    a.peer.stop();
    b.peer.stop();
  });

  it("a muted participant's new send stream while the worker is frozen: 503 muteNotConfirmed within the bound, media torn down; nothing of it flows afterwards", async () => {
    const callId = await createGroupCall(fx.api);
    const a = await join(callId);
    const b = await join(callId);
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);
    a.startStreaming();
    b.startStreaming();
    await waitFor(() => receivedSince(a.peer, b.peer, 0) >= 5, 5000, 'B → A');
    const aMutedFrom = a.peer.nextCounter;

    // A PATCH with a new SSRC: the old producer is closed, the new one is created paused, and
    // that creation is the first thing the worker is asked (the wait the bound is about).
    fx.freeze();
    await sleep(FROZEN_BEFORE_MS);
    const asked = performance.now();
    const res = await fx.api.patch(`/communications/calls/${callId}/participants/${a.id}`, { media: { payloadType: 100, ssrc: 0x7777 } });
    const took = performance.now() - asked;
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.error.innerError.code).toBe('muteNotConfirmed');
    expect(took).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(took).toBeLessThan(BOUND_MS + SLACK_MS);
    const shown = (await fx.api.get(`/communications/calls/${callId}/participants/${a.id}`)).body;
    expect(shown.isMuted).toBe(true);
    fx.thaw();

    // A sends on with its new SSRC: nothing of it reaches B.
    a.peer.start({ to: a.send, payloadType: 100, ssrc: 0x7777, intervalMs: 20 });
    const aFrom = a.peer.nextCounter;
    await sleep(700);
    expect(a.peer.nextCounter - aFrom).toBeGreaterThanOrEqual(25);
    expect(receivedSince(b.peer, a.peer, aMutedFrom)).toBe(0);
    a.peer.stop();
    b.peer.stop();
  });

  it('a muted person rejoining while the worker is frozen: the join completes once the worker runs again, paused from the first packet', async () => {
    const callId = await createGroupCall(fx.api);
    const a = await join(callId);
    const b = await join(callId);
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${a.id}/mute`, {})).status).toBe(200);

    // Setting up a transport is not a pause: a join waits for the worker (admission bounds how
    // long a healthy one takes); only its paused producer's creation is bounded.
    fx.freeze();
    const rejoining = join(callId, a.userId);
    await sleep(BOUND_MS + SLACK_MS);
    fx.thaw();
    const again = await rejoining;
    const roster = (await fx.api.get(`/communications/calls/${callId}/participants`)).body.value as { id: string; isMuted: boolean }[];
    expect(roster.map((p) => p.id).sort()).toEqual([again.id, b.id].sort());
    expect(roster.find((p) => p.id === again.id)?.isMuted).toBe(true);
    again.startStreaming();
    await sleep(400);
    expect(again.peer.nextCounter).toBeGreaterThanOrEqual(15);
    expect(receivedSince(b.peer, again.peer, 0)).toBe(0);
    again.peer.stop();
  });
});
