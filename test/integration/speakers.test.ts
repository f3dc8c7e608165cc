import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sleep, SPREAD_OVER_TWO_WORKERS, useGateway, waitFor } from '../helpers/gateway.js';
import { RosterClient } from '../helpers/rosterClient.js';
import { createGroupCall, joinRtp, PACKET_INTERVAL_MS, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../helpers/rtpCall.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

/** The one-byte header extension id the test participants declare for ssrc-audio-level. */
const EXT = 1;
const LOUD = { id: EXT, levelDbov: 10, voice: true };
const LOUDISH = { id: EXT, levelDbov: 30, voice: true };
/** Below the call's silence level (-50 dBov): never selected. */
const QUIET = { id: EXT, levelDbov: 100, voice: false };
const SILENT = { id: EXT, levelDbov: 127, voice: false };

/**
 * Speaker-aware forwarding and speaker signals, with the real worker and real RTP over UDP whose
 * packets carry the RFC 6464 audio level.
 */
describe('speaker-aware forwarding and speaker signals (real worker, real RTP)', () => {
  const fixture = useGateway();
  const participants: RtpParticipant[] = [];
  const clients: RosterClient[] = [];

  const voices: NodeJS.Timeout[] = [];
  afterEach(() => {
    for (const t of voices.splice(0)) clearInterval(t);
    for (const p of participants.splice(0)) p.peer.close();
    for (const c of clients.splice(0)) c.close();
  });

  async function join(callId: string, level: typeof LOUD | null): Promise<RtpParticipant> {
    const p = await joinRtp(fixture.api, callId, level ? { audioLevelExtensionId: EXT } : {});
    p.peer.audioLevel = level;
    participants.push(p);
    return p;
  }

  /** Streams packets of `payloadBytes` (80: a speech-sized Opus frame; 20: silence-sized). */
  function stream(p: RtpParticipant, payloadBytes = 80): void {
    p.peer.start({ to: p.send, payloadType: PAYLOAD_TYPE, ssrc: p.ssrc, intervalMs: PACKET_INTERVAL_MS, payloadBytes });
  }

  /**
   * Levels that move like speech (syllables of -10 dBov and dips to -35 dBov, about 5 per second)
   * while `talking()` says so: a dominant-speaker detector treats a constant level as background noise.
   */
  function speakLike(p: RtpParticipant, talking: () => boolean): void {
    let tick = 0;
    voices.push(
      setInterval(() => {
        if (!talking()) return;
        tick++;
        p.peer.audioLevel = { id: EXT, levelDbov: tick % 10 < 6 ? 10 : 35, voice: true };
      }, PACKET_INTERVAL_MS),
    );
  }

  const participant = async (callId: string, id: string) => (await fixture.api.get(`/communications/calls/${callId}/participants/${id}`)).body;

  it('speakers mode, maxSpeakers 1: listeners get only the loudest source, and the selection switches', async () => {
    const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'speakers', maxSpeakers: 1 } });
    expect((await fixture.api.get(`/communications/calls/${callId}`)).body.forwarding).toEqual({ mode: 'speakers', maxSpeakers: 1, silenceDbov: 50 });
    const first = await join(callId, LOUD);
    const second = await join(callId, LOUDISH);
    const quiet = await join(callId, QUIET);
    const listener = await join(callId, SILENT);

    let firstTalks = true;
    speakLike(first, () => firstTalks);
    stream(first);
    await waitFor(() => receivedSince(listener.peer, first.peer, 0) >= 5, 5000, 'the first loud speaker is forwarded');
    stream(second);
    stream(quiet);
    await sleep(1500);
    // Only the selected speaker: the second one is loud too but not the loudest, the quiet one is below the silence level.
    expect(receivedSince(listener.peer, second.peer, 0)).toBe(0);
    expect(receivedSince(listener.peer, quiet.peer, 0)).toBe(0);
    expect(receivedSince(second.peer, quiet.peer, 0)).toBe(0);
    expect(receivedSince(second.peer, first.peer, 0)).toBeGreaterThan(50);
    // The selected speaker is the dominant one in the roster. mediasoup's ActiveSpeakerObserver
    // decides over long windows (its dominant-speaker algorithm, not a level threshold): with
    // the other loud source sending it took more than 5 s in some runs, so it gets 15.
    await waitFor(() => fixture.gateway.service.getCall(callId).dominantSpeakerId === first.id, 15000, 'dominant speaker');
    expect(await participant(callId, first.id)).toMatchObject({ dominantSpeaker: true });
    expect((await fixture.api.get(`/communications/calls/${callId}`)).body.dominantSpeakerParticipantId).toBe(first.id);

    // The first speaker falls silent (its packets keep coming): after the hold time the second takes over.
    firstTalks = false;
    first.peer.audioLevel = SILENT;
    await waitFor(() => receivedSince(listener.peer, second.peer, 0) >= 10, 5000, 'the second speaker is selected');
    const afterSwitch = first.peer.nextCounter + 5; // a pause request may cross a few packets in flight
    await sleep(1000);
    expect(receivedSince(listener.peer, first.peer, afterSwitch)).toBe(0);
    expect(receivedSince(listener.peer, quiet.peer, 0)).toBe(0);
    expect(receivedSince(listener.peer, second.peer, 0)).toBeGreaterThan(40);
  });

  it('a muted participant who keeps talking shows talkingWhileMuted (JSON, protobuf, webhook) and reaches nobody; it decays after silence', async () => {
    const hooks = await WebhookReceiver.start();
    try {
      const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'all' }, callbackUri: hooks.url });
      const talker = await join(callId, LOUD);
      const listener = await join(callId, SILENT);
      const json = await RosterClient.connect(fixture.gateway.url, 'json');
      const proto = await RosterClient.connect(fixture.gateway.url, 'proto');
      clients.push(json, proto);
      await json.answer(json.request({ type: 'subscribe', callId }));
      await proto.answer(proto.request({ type: 'subscribe', callId }));
      stream(talker);
      await waitFor(() => receivedSince(listener.peer, talker.peer, 0) >= 5, 5000, 'talker heard');

      const mute = await fixture.api.post(`/communications/calls/${callId}/participants/${talker.id}/mute`, {});
      expect(mute.status).toBe(200);
      const sentAtAck = talker.peer.nextCounter;
      const jsonFlag = () =>
        json.messages.filter((m) => m['@mutegate.kind'] === 'delta').map((m) => m.value[0].resourceData[0]).filter((p) => p?.id === talker.id).map((p) => p.talkingWhileMuted);
      const protoFlag = () => proto.messages.filter((m) => m.delta?.participants?.[0]?.id === talker.id).map((m) => Boolean(m.delta.participants[0].talkingWhileMuted));
      await waitFor(() => jsonFlag().includes(true) && protoFlag().includes(true), 5000, 'talkingWhileMuted over WebSocket');
      expect(await participant(callId, talker.id)).toMatchObject({ isMuted: true, talkingWhileMuted: true });
      await waitFor(
        () => hooks.received.some((h) => h.body.value?.[0]?.resourceData?.[0]?.id === talker.id && h.body.value[0].resourceData[0].talkingWhileMuted === true),
        5000,
        'talkingWhileMuted in a webhook',
      );
      // Speech is detected from what the worker drops: not one packet was forwarded after the mute's 200.
      await sleep(500);
      expect(receivedSince(listener.peer, talker.peer, sentAtAck)).toBe(0);
      // Exactly one change to true so far (only transitions are sent).
      expect(jsonFlag().filter((f) => f === true)).toHaveLength(1);

      // Silence (DTX-sized frames at the same rate): false again within about 1.5–2 s.
      talker.peer.audioLevel = SILENT;
      stream(talker, 20);
      const silentFrom = Date.now();
      await waitFor(() => jsonFlag().at(-1) === false && protoFlag().at(-1) === false, 5000, 'talkingWhileMuted decays');
      expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(1000);
      expect(await participant(callId, talker.id)).toMatchObject({ isMuted: true, talkingWhileMuted: false });
      expect(receivedSince(listener.peer, talker.peer, sentAtAck)).toBe(0);

      // Unmuted, the same speech is no longer "while muted".
      talker.peer.audioLevel = LOUD;
      stream(talker);
      await waitFor(() => jsonFlag().at(-1) === true, 5000, 'talking while muted again');
      expect((await fixture.api.post(`/communications/calls/${callId}/participants/${talker.id}/unmute`, {})).status).toBe(200);
      expect(await participant(callId, talker.id)).toMatchObject({ isMuted: false, talkingWhileMuted: false });
      const unmutedAt = talker.peer.nextCounter;
      await waitFor(() => receivedSince(listener.peer, talker.peer, unmutedAt) >= 5, 3000, 'heard again after unmute');
    } finally {
      await hooks.close();
    }
  });

  it('deafen and selection are exact together: a consumer flows only if its receiver is not deafened and its source is selected and unmuted', async () => {
    const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'speakers', maxSpeakers: 1, silenceDbov: 60 } });
    const speaker = await join(callId, LOUD);
    const other = await join(callId, QUIET);
    const deafened = await join(callId, SILENT);
    const hearing = await join(callId, SILENT);
    stream(speaker);
    stream(other);
    await waitFor(() => receivedSince(hearing.peer, speaker.peer, 0) >= 5 && receivedSince(deafened.peer, speaker.peer, 0) >= 5, 5000, 'speaker heard');

    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${deafened.id}/deafen`, {})).status).toBe(200);
    const deafenedAt = speaker.peer.nextCounter;
    // While deafened, the selection moves to the other source: still nothing for the deafened one.
    speaker.peer.audioLevel = SILENT;
    other.peer.audioLevel = LOUD;
    await waitFor(() => receivedSince(hearing.peer, other.peer, 0) >= 10, 5000, 'the other source is selected');
    await sleep(300);
    expect(receivedSince(deafened.peer, speaker.peer, deafenedAt)).toBe(0);
    expect(receivedSince(deafened.peer, other.peer, 0)).toBe(0);

    // Undeafened: it hears the selected source only (its consumer of the unselected one stays paused).
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${deafened.id}/undeafen`, {})).status).toBe(200);
    const undeafenedAt = speaker.peer.nextCounter;
    await waitFor(() => receivedSince(deafened.peer, other.peer, 0) >= 10, 3000, 'hears the selected source again');
    expect(receivedSince(deafened.peer, speaker.peer, undeafenedAt)).toBe(0);

    // A selected source that is muted reaches nobody, whatever the selection (its producer is paused).
    expect((await fixture.api.post(`/communications/calls/${callId}/participants/${other.id}/mute`, {})).status).toBe(200);
    const mutedAt = other.peer.nextCounter;
    await sleep(800);
    expect(receivedSince(hearing.peer, other.peer, mutedAt)).toBe(0);
    expect(receivedSince(deafened.peer, other.peer, mutedAt)).toBe(0);
    // …and its slot goes to the next loud source.
    speaker.peer.audioLevel = LOUD;
    const loudAgainAt = speaker.peer.nextCounter;
    await waitFor(() => receivedSince(hearing.peer, speaker.peer, loudAgainAt) >= 5, 5000, 'the slot is taken by the loud source');
    expect(receivedSince(hearing.peer, other.peer, mutedAt)).toBe(0);
  });

  it('mode all is unchanged: every unmuted source is heard, quiet or silent or without audio level', async () => {
    const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'all' } });
    const loud = await join(callId, LOUD);
    const quiet = await join(callId, QUIET);
    const plain = await join(callId, null);
    const listener = await join(callId, SILENT);
    for (const p of [loud, quiet, plain]) stream(p);
    await waitFor(() => [loud, quiet, plain].every((s) => receivedSince(listener.peer, s.peer, 0) >= 20), 5000, 'everyone heard');
    // Nobody is muted: no talkingWhileMuted anywhere.
    expect(await participant(callId, quiet.id)).toMatchObject({ talkingWhileMuted: false });
  });

  it('speakers mode forwards a source without audio level (it cannot be ranked)', async () => {
    const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'speakers', maxSpeakers: 1 } });
    const loud = await join(callId, LOUD);
    const plain = await join(callId, null);
    const quiet = await join(callId, QUIET);
    const listener = await join(callId, SILENT);
    for (const p of [loud, plain, quiet]) stream(p);
    await waitFor(() => receivedSince(listener.peer, loud.peer, 0) >= 20 && receivedSince(listener.peer, plain.peer, 0) >= 20, 5000, 'loud and unranked heard');
    expect(receivedSince(listener.peer, quiet.peer, 0)).toBe(0);
  });

  it('auto mode forwards everyone until the call has more than speakersFrom senders, then only the selected', async () => {
    const callId = await createGroupCall(fixture.api, { forwarding: { mode: 'auto', speakersFrom: 2, maxSpeakers: 1 } });
    const loud = await join(callId, LOUD);
    const quiet = await join(callId, QUIET);
    stream(loud);
    stream(quiet);
    // Two senders: everyone hears everyone, quiet or not.
    await waitFor(() => receivedSince(loud.peer, quiet.peer, 0) >= 20, 5000, 'the quiet one is heard with two senders');
    const third = await join(callId, SILENT);
    const quietAtThird = quiet.peer.nextCounter + 5;
    await waitFor(() => receivedSince(third.peer, loud.peer, 0) >= 10, 5000, 'the loud one is heard by the newcomer');
    await sleep(800);
    expect(receivedSince(loud.peer, quiet.peer, quietAtThird)).toBe(0);
    expect(receivedSince(third.peer, quiet.peer, 0)).toBe(0);
  });

  it('refuses bad forwarding and audio-level settings with 400', async () => {
    for (const forwarding of [{ mode: 'speakers', maxSpeakers: 17 }, { mode: 'loudest' }, { mode: 'speakers', silenceDbov: -1 }, { maxSpeakers: 2 }]) {
      const res = await fixture.api.post('/communications/calls', { subject: 'bad', forwarding });
      expect(res.status, JSON.stringify(forwarding)).toBe(400);
      expect(res.body.error.code).toBeTypeOf('string');
    }
    const callId = await createGroupCall(fixture.api);
    const res = await fixture.api.post(`/communications/calls/${callId}/participants`, {
      info: { identity: { user: { id: 'ext15' } } },
      media: { kind: 'rtp', payloadType: PAYLOAD_TYPE, ssrc: 4242, receive: { ip: '127.0.0.1', port: 40_000 }, audioLevelExtensionId: 15 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('audioLevelExtensionId');
  });
});

/** The same rules when a call is spread over two workers: each router decides for its own listeners, from pipe copies. */
describe('speaker-aware forwarding over two workers (real workers, pipes, real RTP)', () => {
  const fx = useGateway(SPREAD_OVER_TWO_WORKERS);
  const participants: RtpParticipant[] = [];
  afterAll(() => {
    for (const p of participants.splice(0)) p.peer.close();
  });

  it('listeners on the other worker hear only the selected source, and a muted talker shows talkingWhileMuted and reaches nobody through the pipe', async () => {
    const callId = await createGroupCall(fx.api, { forwarding: { mode: 'speakers', maxSpeakers: 1 } });
    const join = async (level: typeof LOUD) => {
      const p = await joinRtp(fx.api, callId, { audioLevelExtensionId: EXT });
      p.peer.audioLevel = level;
      participants.push(p);
      return p;
    };
    const loud = await join(LOUD);
    const quiet = await join(QUIET);
    const far1 = await join(SILENT);
    const far2 = await join(SILENT);
    const media = fx.gateway.service.getCall(callId).media as unknown as { workerPidOf(id: string): number | null };
    const workerA = media.workerPidOf(loud.id);
    expect(media.workerPidOf(quiet.id)).toBe(workerA);
    expect(media.workerPidOf(far1.id)).not.toBe(workerA);
    expect(media.workerPidOf(far2.id)).toBe(media.workerPidOf(far1.id));

    const stream = (p: RtpParticipant) => p.peer.start({ to: p.send, payloadType: PAYLOAD_TYPE, ssrc: p.ssrc, intervalMs: PACKET_INTERVAL_MS, payloadBytes: 80 });
    stream(loud);
    await waitFor(() => receivedSince(far1.peer, loud.peer, 0) >= 5, 5000, 'the loud one heard on the other worker');
    stream(quiet);
    await sleep(1000);
    expect(receivedSince(far1.peer, quiet.peer, 0)).toBe(0);
    expect(receivedSince(far2.peer, quiet.peer, 0)).toBe(0);
    expect(receivedSince(loud.peer, quiet.peer, 0)).toBe(0);

    // The loud one is muted and keeps talking: nothing through the pipe, flag on; its slot passes on.
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${loud.id}/mute`, {})).status).toBe(200);
    const mutedAt = loud.peer.nextCounter;
    quiet.peer.audioLevel = LOUD;
    await waitFor(() => receivedSince(far1.peer, quiet.peer, 0) >= 10, 5000, 'the other source selected on the far worker');
    await waitFor(() => fx.gateway.service.getCall(callId).participants.get(loud.id)?.talkingWhileMuted === true, 5000, 'talkingWhileMuted');
    expect(receivedSince(far1.peer, loud.peer, mutedAt)).toBe(0);
    expect(receivedSince(far2.peer, loud.peer, mutedAt)).toBe(0);
    expect(receivedSince(quiet.peer, loud.peer, mutedAt)).toBe(0);
  });
});
