import { describe, expect, it } from 'vitest';
import { nowMs } from '../../../native-bench/lib/RtpPeer.js';
import type { CallRouter } from '../../../src/media/CallRouter.js';
import { metricValue, sleep, SPREAD_OVER_TWO_WORKERS, useGateway, waitFor } from '../../helpers/gateway.js';
import { HOSTILE_KINDS, HostileRtp, type HostileKind } from '../../helpers/hostileRtp.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE, receivedSince, type RtpParticipant } from '../../helpers/rtpCall.js';
import { seededRandom } from '../../helpers/seededRandom.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x6d757465);
const BEFORE_MUTE = 6_000;
const AFTER_MUTE = 24_000;
/** Datagrams per 1 ms tick: ~15–20 thousand a second, more than a real leg sends by far. */
const PER_TICK = 20;
/** A datagram the worker sent just before it confirmed the pause can still wait in a listener's socket when the 200 arrives. */
const IN_FLIGHT_MS = 100;

/** "csrc × 3, padding × 5": how many of each. */
const tally = (kinds: string[]) => {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} × ${n}`).join(', ');
};

/**
 * A muted participant with a plain RTP leg (a SIP bridge or a bot: nothing authenticates its
 * datagrams, so the worker's parsers see every byte it sends) sends crafted RTP and RTCP into its
 * leg: every optional header part and every RTCP packet type the worker parses, lying lengths and
 * padding counts, other participants' SSRCs, noise (test/helpers/hostileRtp.ts, seeded). The call
 * spreads over two workers, so what is forwarded crosses a pipe too. Before the mute some crafted
 * packets are forwarded (the measurement sees them); after its 200 none may be, on either worker;
 * the workers must survive it all (a crashed worker would take the whole call down with it) and
 * the others must still be heard. After the mute a colluding listener also crafts packets on its
 * own leg, its RTCP feedback aimed at its stream of her (PLI, FIR, REMB, reports): nothing of hers
 * comes back to it that way either. (A NACK could not show a replay here: a plain-RTP consumer
 * negotiates no NACK, so the worker keeps no retransmission buffer for it.)
 */
describe('hostile participants: crafted RTP and RTCP from a muted plain-RTP leg', () => {
  const fx = useGateway(SPREAD_OVER_TWO_WORKERS);

  it(`nothing of it after the 200, the workers survive, the others are still heard (seed ${SEED})`, async () => {
    const callId = await createGroupCall(fx.api);
    const media = fx.gateway.service.getCall(callId).media as unknown as CallRouter;
    const m = await joinRtp(fx.api, callId, { userId: 'mallory' });
    const bob = await joinRtp(fx.api, callId, { userId: 'bob' });
    const listeners: RtpParticipant[] = [];
    for (let i = 0; i < 4; i++) listeners.push(await joinRtp(fx.api, callId, { userId: `listener-${i}` }));
    fx.peers.push(m.peer, bob.peer, ...listeners.map((l) => l.peer));
    const workerOfM = media.workerPidOf(m.id);
    const elsewhere = listeners.filter((l) => media.workerPidOf(l.id) !== workerOfM);
    expect(elsewhere.length, 'some listeners are on the other worker (the pipe is under test too)').toBeGreaterThan(0);
    const workers = [...media.workerPids].sort();
    expect(workers).toHaveLength(2);

    m.startStreaming();
    bob.startStreaming();
    // Each listener's SSRC for mallory (the SFU rewrites it per consumer), learned from her stream.
    await waitFor(() => listeners.every((l) => receivedSince(l.peer, m.peer, 0) >= 3), 3000, 'mallory heard by every listener');
    const ssrcOfM = new Map(listeners.map((l) => [l, l.peer.from(m.peer.senderId)[0]!.ssrc]));
    /** Per listener: receive times of every RTP packet on mallory's SSRC there, probe or not. */
    const onMsSsrc = new Map<RtpParticipant, number[]>(listeners.map((l) => [l, []]));
    for (const l of listeners) {
      l.peer.onRtp = (rtp, at) => {
        if (rtp.ssrc === ssrcOfM.get(l)) onMsSsrc.get(l)!.push(at);
      };
    }

    // Her own consumers' SSRCs (what she receives of the others): RTCP feedback about them is what
    // her transport acts on (mediasoup looks a report's or feedback's media SSRC up among the
    // transport's own consumers).
    const mine = await fx.api.get(`/communications/calls/${callId}/participants/${m.id}`);
    const ownConsumerSsrcs = (mine.body.media.receiveStreams as { ssrc: number }[]).map((r) => r.ssrc);
    expect(ownConsumerSsrcs.length, 'she receives the others').toBe(listeners.length + 1);

    const kindOf = new Map<number, HostileKind>();
    const crafted = new HostileRtp(
      {
        senderId: m.peer.senderId,
        ssrc: m.ssrc,
        otherSsrcs: [...ownConsumerSsrcs, ...ownConsumerSsrcs, bob.ssrc, ...listeners.map((l) => l.ssrc), ...ssrcOfM.values()],
        payloadType: PAYLOAD_TYPE,
        nextCounter: () => m.peer.nextCounter++,
      },
      seededRandom(SEED),
    );
    // A colluding listener crafts packets on its own leg too, aimed at its stream of her above all.
    const accomplice = listeners[0]!;
    const fromAccomplice = new HostileRtp(
      {
        senderId: accomplice.peer.senderId,
        ssrc: accomplice.ssrc,
        otherSsrcs: [ssrcOfM.get(accomplice)!, m.ssrc],
        payloadType: PAYLOAD_TYPE,
        nextCounter: () => accomplice.peer.nextCounter++,
      },
      seededRandom(SEED + 1),
    );
    const sent = new Map<HostileKind, number>(HOSTILE_KINDS.map((k) => [k, 0]));
    const blast = async (count: number, withAccomplice: boolean) => {
      for (let i = 0; i < count; i++) {
        const before = m.peer.nextCounter;
        const { kind, datagram } = crafted.next();
        if (m.peer.nextCounter !== before) kindOf.set(before, kind);
        sent.set(kind, sent.get(kind)! + 1);
        m.peer.sendDatagram(datagram, m.send);
        if (withAccomplice) accomplice.peer.sendDatagram(fromAccomplice.next().datagram, accomplice.send);
        if (i % PER_TICK === PER_TICK - 1) await sleep(1);
      }
    };

    // Unmuted: some crafted packets are forwarded, so the count after the mute can see them.
    const beforeFrom = m.peer.nextCounter;
    await blast(BEFORE_MUTE, false);
    await sleep(200);
    const forwardedKinds = new Set(
      listeners.flatMap((l) => l.peer.from(m.peer.senderId).filter((p) => p.counter >= beforeFrom && kindOf.has(p.counter))).map((p) => kindOf.get(p.counter)),
    );
    expect(forwardedKinds.size, `crafted kinds forwarded while unmuted: ${[...forwardedKinds].join(', ')}`).toBeGreaterThan(3);

    const mute = await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/mute`, {});
    const answeredAt = nowMs(); // the clock of RtpPeer's receive times
    const atMute = m.peer.nextCounter;
    expect(mute.status, JSON.stringify(mute.body)).toBe(200);
    await blast(AFTER_MUTE, true);
    await sleep(300);
    for (const [kind, n] of sent) expect(n, `crafted ${kind} datagrams sent`).toBeGreaterThan(500);

    for (const l of listeners) {
      const worker = media.workerPidOf(l.id) === workerOfM ? 'same worker' : 'other worker';
      const late = l.peer.from(m.peer.senderId).filter((p) => p.counter >= atMute);
      expect(late.length, `${l.userId} (${worker}) got mallory's packets sent after the 200: ${tally(late.map((p) => kindOf.get(p.counter) ?? 'stream'))}`).toBe(0);
      // Anything at all on her SSRC there (a packet whose payload is no probe any more included).
      const onHers = onMsSsrc.get(l)!.filter((at) => at > answeredAt + IN_FLIGHT_MS);
      expect(onHers.length, `${l.userId} (${worker}): RTP on mallory's SSRC after the 200`).toBe(0);
    }

    // The workers survived (a crash would have replaced the call's routers and failed the call).
    expect([...media.workerPids].sort()).toEqual(workers);
    expect(media.workerPidOf(m.id)).toBe(workerOfM);
    expect(metricValue(await (await fetch(`${fx.gateway.url}/metrics`)).text(), 'mutegate_worker_deaths_total') || 0).toBe(0);
    const call = await fx.api.get(`/communications/calls/${callId}`);
    expect(call.status).toBe(200);
    // Bob, on the same legs' routers, is still heard by everyone.
    const bobFrom = bob.peer.nextCounter;
    await waitFor(() => listeners.every((l) => receivedSince(l.peer, bob.peer, bobFrom) >= 5), 3000, 'bob heard after the flood');
    // And her own stream is heard again after an unmute: muted was the only thing keeping her out.
    expect((await fx.api.post(`/communications/calls/${callId}/participants/${m.id}/unmute`, {})).status).toBe(200);
    const heardFrom = m.peer.nextCounter;
    await waitFor(() => listeners.every((l) => receivedSince(l.peer, m.peer, heardFrom) >= 5), 3000, 'mallory heard after the unmute');
  }, 60_000);
});
