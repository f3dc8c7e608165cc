import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, useGateway, waitFor } from '../../helpers/gateway.js';
import { RosterClient } from '../../helpers/rosterClient.js';
import { createGroupCall, joinRtp, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';
import { tokenFor } from '../../helpers/tokens.js';

/**
 * Everything about one person runs in one queue, in order: its own requests and a moderator's
 * mute, lock or removal of it. A participant that floods its own queue (thousands of its own mute
 * and unmute requests over one WebSocket, each a worker round trip) would hold a moderator's lock
 * off for as long as it liked, audible all the while. Its own unfinished requests are capped
 * (limits.ownRequestsInFlight, 4): the rest are refused at once with 429, and the moderator's
 * lock waits behind at most those few.
 */
describe('hostile participants: flooding its own queue to hold off a moderator', () => {
  // The rate limits (limits.ownRequestsPerSecond, and limits.requestsPerSecond, which closes a
  // flooding WebSocket: hostile/requestFlood.test.ts) are raised here: what is tested is that the
  // limit of unfinished requests alone bounds the moderator's wait (the rate is tested below).
  const fixture = useGateway({ MUTEGATE_LIMITS_OWN_REQUESTS_PER_SECOND: '100000', MUTEGATE_LIMITS_REQUESTS_PER_SECOND: '100000' });
  let callId: string;
  let bob: RtpParticipant;
  let mallory: RtpParticipant;
  let flood: RosterClient;

  beforeAll(async () => {
    callId = await createGroupCall(fixture.api);
    bob = await joinRtp(fixture.api, callId, { userId: 'bob' });
    mallory = await joinRtp(fixture.api, callId, { userId: 'mallory' });
    mallory.startStreaming();
    await waitFor(() => receivedSince(bob.peer, mallory.peer, 0) >= 10, 3000, 'Mallory heard by Bob');
    flood = await RosterClient.connect(fixture.gateway.url, 'json', tokenFor({ role: 'participant', subject: 'mallory', call: callId }));
  });
  afterAll(() => {
    flood?.close();
    for (const p of [bob, mallory]) p?.peer.close();
  });

  it('a lock sent during a flood of 4000 of her own mutes and unmutes is answered at once, and nothing of hers is forwarded after it', async () => {
    const frames = 4000;
    const ids: string[] = [];
    for (let i = 0; i < frames; i++) ids.push(flood.request({ type: i % 2 === 0 ? 'mute' : 'unmute', callId, participantId: mallory.id }));
    // The moderator acts once the flood is being worked on (the gateway has read it: a few of
    // her requests were answered), not before it arrived.
    await waitFor(() => ids.filter((id) => flood.answersTo(id).length > 0).length >= 20, 5000, 'the first answers to the flood');

    const started = Date.now();
    const lock = await fixture.api.post(`/communications/calls/${callId}/participants/${mallory.id}/lock`, { clientContext: 'moderator during a flood' });
    const tookMs = Date.now() - started;
    const sentAfterLock = mallory.peer.nextCounter;
    expect(lock.status, JSON.stringify(lock.body)).toBe(200);
    // Behind the whole flood it would take seconds (each of her requests is a worker round trip).
    expect(tookMs, 'the lock waited behind at most a few of her requests').toBeLessThan(300);

    // Every one of her frames is answered: a few ran, the rest were refused at once, and those
    // after the lock are refused as locked.
    await waitFor(() => ids.every((id) => flood.answersTo(id).length > 0), 15_000, 'an answer to each flood frame');
    const codes = new Map<string, number>();
    for (const id of ids) {
      const answer = flood.answersTo(id)[0];
      const code = answer.type === 'error' ? `${answer.status} ${answer.error.innerError.code}` : `${answer.status}`;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.get('429 tooManyOwnRequests') ?? 0, JSON.stringify([...codes])).toBeGreaterThan(frames / 2);
    expect([...codes.keys()].every((code) => ['200', '429 tooManyOwnRequests', '403 participantLocked', '409 participantLocked'].includes(code)), JSON.stringify([...codes])).toBe(true);

    await sleep(500);
    expect(mallory.peer.nextCounter - sentAfterLock, 'Mallory kept sending').toBeGreaterThanOrEqual(20);
    expect(receivedSince(bob.peer, mallory.peer, sentAfterLock), 'packets of locked Mallory forwarded after the 200').toBe(0);
    expect((await fixture.api.get(`/communications/calls/${callId}/participants/${mallory.id}`)).body).toMatchObject({ isMuted: true, locked: true });

    // Once her requests are answered she may ask again (the limit counts unfinished ones only).
    const again = await flood.answer(flood.request({ type: 'unmute', callId, participantId: mallory.id }));
    expect(again).toMatchObject({ type: 'error', status: 403, error: { innerError: { code: 'participantLocked' } } });
  }, 40_000);
});

/**
 * Each change a participant makes to itself (a hand raised or lowered, its own mute) is a roster
 * update to every subscriber of the call: toggling its hand in a loop would flood every
 * subscriber (and close the slow ones as too slow) and cost the control plane for everyone. A
 * participant's own requests are held to limits.ownRequestsPerSecond (a burst of twice that).
 */
describe('hostile participants: toggling its hand as fast as it can', () => {
  // limits.requestsPerSecond (which would close this WebSocket first) is raised: the per-identity
  // rate of its own changes is what is tested here.
  const fixture = useGateway({ MUTEGATE_LIMITS_OWN_REQUESTS_PER_SECOND: '10', MUTEGATE_LIMITS_REQUESTS_PER_SECOND: '100000' });

  it('gets 429 past 10 changes per second (burst 20); subscribers hear only those', async () => {
    const callId = await createGroupCall(fixture.api);
    const mallory = await joinRtp(fixture.api, callId, { userId: 'mallory' });
    const watcher = await RosterClient.connect(fixture.gateway.url, 'proto');
    const flood = await RosterClient.connect(fixture.gateway.url, 'json', tokenFor({ role: 'participant', subject: 'mallory', call: callId }));
    try {
      await watcher.answer(watcher.request({ type: 'subscribe', callId }));
      const started = Date.now();
      const ids: string[] = [];
      // 2000 toggles over about a second, in batches (the in-flight limit of 4 stays out of the way).
      for (let i = 0; i < 100; i++) {
        for (let j = 0; j < 20; j++) ids.push(flood.request({ type: j % 2 === 0 ? 'raiseHand' : 'lowerHand', callId, participantId: mallory.id }));
        await sleep(10);
      }
      await waitFor(() => ids.every((id) => flood.answersTo(id).length > 0), 15_000, 'an answer to each toggle');
      const seconds = (Date.now() - started) / 1000;
      const ok = ids.filter((id) => flood.answersTo(id)[0].type === 'response').length;
      const limited = ids.filter((id) => flood.answersTo(id)[0].error?.innerError?.code === 'tooManyOwnRequests').length;
      expect(ok + limited).toBe(ids.length);
      // The burst of 20, then 10 per second; the in-flight limit refuses some besides.
      expect(ok).toBeGreaterThan(0);
      expect(ok).toBeLessThanOrEqual(20 + Math.ceil(10 * seconds));
      await sleep(300);
      expect(watcher.deltas().length, 'roster updates the subscriber got').toBeLessThanOrEqual(ok);
    } finally {
      watcher.close();
      flood.close();
      mallory.peer.close();
    }
  }, 30_000);
});
