import { beforeEach, describe, expect, it } from 'vitest';
import { CallService, type RosterChange } from '../../src/control/CallService.js';
import type { Operation } from '../../src/control/Operation.js';
import type { EndpointMedia, ProducerStart, RtpSendSpec } from '../../src/control/mediaPlane.js';
import { confirmWithin, NotConfirmedInTime } from '../../src/control/confirmWithin.js';
import { Moderation } from '../../src/control/Moderation.js';
import { WebRtcSignaling } from '../../src/control/WebRtcSignaling.js';
import type { RtpMediaSpec } from '../../src/control/Participant.js';
import { rejection, user } from '../helpers/domainFixtures.js';
import { FakeMediaPlane, type FakeWebRtcEndpoint } from '../helpers/fakeMediaPlane.js';

const BOUND_MS = 60;
const media = (ssrc: number): RtpMediaSpec => ({ kind: 'rtp', payloadType: 100, ssrc, receive: { ip: '127.0.0.1', port: 40000 + ssrc } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The confirmation bound (media.muteConfirmTimeoutMs) without a worker: the fake endpoint holds a
 * pause or resume open, as a frozen or saturated worker would, and releases it after the bound.
 * The real worker under SIGSTOP is in test/integration/muteConfirmTimeout.test.ts.
 */
describe('a mute the worker does not confirm in time fails closed (no worker)', () => {
  let plane: FakeMediaPlane;
  let service: CallService;
  let roster: RosterChange[];
  let finished: Operation['status'][];

  beforeEach(() => {
    plane = new FakeMediaPlane();
    service = new CallService(plane, { operationsPerCall: 20, muteConfirmTimeoutMs: BOUND_MS });
    roster = [];
    finished = [];
    service.on('roster', (_call, change) => roster.push(change));
    service.on('operationFinished', (op) => finished.push(op.status));
  });

  it('mute: 503 muteNotConfirmed at the bound, media torn down, muted, failed; the late pause changes nothing', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const endpoint = plane.endpoint(alice.id);
    const stall = endpoint.hold();

    const started = performance.now();
    const err = await rejection(service.muteParticipant(call.id, alice.id, 'ctx'));
    const took = performance.now() - started;
    expect(err.code).toBe('muteNotConfirmed');
    expect(err.kind).toBe('mediaUnavailable');
    expect(err.message).toContain(`within ${BOUND_MS} ms`);
    expect(took).toBeGreaterThanOrEqual(BOUND_MS - 5);
    expect(took).toBeLessThan(BOUND_MS + 200);
    expect(endpoint.closed).toBe(true);
    expect(alice.media).toBeNull();
    expect(alice.isMuted).toBe(true);
    const op = service.getOperation(call.id, err.operationId as string);
    expect(op.status).toBe('failed');
    expect(op.resultInfo?.code).toBe(503);
    expect(finished).toEqual(['failed']);
    const updatesAtAnswer = roster.filter((c) => c.kind === 'updated').length;
    expect(updatesAtAnswer).toBe(1);

    // The worker confirms the pause long after: nothing flips, nothing is emitted.
    stall.release();
    await sleep(20);
    expect(op.status).toBe('failed');
    expect(finished).toEqual(['failed']);
    expect(roster.filter((c) => c.kind === 'updated')).toHaveLength(updatesAtAnswer);
    expect(alice.isMuted).toBe(true);

    // The identity's queue moved on: the next operation runs at once (no media: the state alone).
    const unmute = await service.unmuteParticipant(call.id, alice.id);
    expect(unmute.status).toBe('completed');
  });

  it('lock: fails closed the same way and stays locked', async () => {
    const call = await service.createCall({});
    const moderation = new Moderation(service);
    const bob = await service.addParticipant(call.id, { identity: user('bob'), media: media(2) });
    const stall = plane.endpoint(bob.id).hold();
    const err = await rejection(moderation.lock(call.id, bob.id));
    expect(err.code).toBe('muteNotConfirmed');
    expect(bob.isMuted).toBe(true);
    expect(plane.endpoint(bob.id).closed).toBe(true);
    expect(service.getOperation(call.id, err.operationId as string).status).toBe('failed');
    stall.release();
  });

  it('unmute: 503 unmuteNotConfirmed, stays muted, a pause follows the resume; the late resume changes nothing', async () => {
    const call = await service.createCall({});
    const carol = await service.addParticipant(call.id, { identity: user('carol'), media: media(3) });
    expect((await service.muteParticipant(call.id, carol.id)).status).toBe('completed');
    const endpoint = plane.endpoint(carol.id);
    const updatesBefore = roster.filter((c) => c.kind === 'updated').length;
    const stall = endpoint.hold();

    const err = await rejection(service.unmuteParticipant(call.id, carol.id));
    expect(err.code).toBe('unmuteNotConfirmed');
    expect(err.kind).toBe('mediaUnavailable');
    expect(carol.isMuted).toBe(true);
    expect(service.getOperation(call.id, err.operationId as string).status).toBe('failed');
    // The pause was sent right behind the resume (the worker handles them in this order).
    expect(endpoint.log.slice(-2)).toEqual(['resume', 'pause']);
    expect(endpoint.closed).toBe(false);

    stall.release();
    await sleep(20);
    expect(carol.isMuted).toBe(true);
    expect(roster.filter((c) => c.kind === 'updated')).toHaveLength(updatesBefore);
    expect(finished).toEqual(['completed', 'failed']);
  });

  it('a muted rejoin whose paused stream is not confirmed: 503 muteNotConfirmed, the old leg stays, the late endpoint is closed', async () => {
    const call = await service.createCall({});
    const dave = await service.addParticipant(call.id, { identity: user('dave'), media: media(4) });
    await service.muteParticipant(call.id, dave.id);
    const callMedia = plane.calls[0]!;
    const original = callMedia.addRtpEndpoint.bind(callMedia);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let late: EndpointMedia | undefined;
    callMedia.addRtpEndpoint = async (...args) => {
      callMedia.addRtpEndpoint = original;
      // The worker is asked to create the paused producer and does not answer until released.
      args[2].producing?.(released);
      await released;
      late = await original(...args);
      return late;
    };
    const err = await rejection(service.addParticipant(call.id, { identity: user('dave'), media: media(5) }));
    expect(err.code).toBe('muteNotConfirmed');
    expect(call.participants.get(dave.id)).toBe(dave);
    expect(dave.isMuted).toBe(true);

    release();
    await sleep(20);
    expect(late).toBeDefined();
    expect((late as unknown as { closed: boolean }).closed).toBe(true);
    expect([...call.participants.values()]).toEqual([dave]);
  });

  it('a muted join that waits long for its turn (other joins, placement) but whose paused producer is confirmed at once succeeds', async () => {
    const call = await service.createCall({ muteOnEntry: true });
    const callMedia = plane.calls[0]!;
    const original = callMedia.addRtpEndpoint.bind(callMedia);
    callMedia.addRtpEndpoint = async (...args) => {
      callMedia.addRtpEndpoint = original;
      await sleep(BOUND_MS * 3); // the call's wiring queue, placement on a worker, …
      args[2].producing?.(Promise.resolve()); // the paused producer is confirmed at once
      await sleep(BOUND_MS * 2); // consumers of everyone
      return original(...args);
    };
    const hank = await service.addParticipant(call.id, { identity: user('hank'), media: media(8) });
    expect(hank.isMuted).toBe(true);
    expect(plane.endpoint(hank.id).sendPaused).toBe(true);
  });

  it('deafen: fails closed at the bound', async () => {
    const call = await service.createCall({});
    const moderation = new Moderation(service);
    const erin = await service.addParticipant(call.id, { identity: user('erin'), media: media(6) });
    const stall = plane.endpoint(erin.id).hold();
    const err = await rejection(moderation.deafen(call.id, erin.id));
    expect(err.code).toBe('deafenNotConfirmed');
    expect(plane.endpoint(erin.id).closed).toBe(true);
    stall.release();
  });

  it("a muted participant's new send stream (PATCH) not confirmed in time: 503 muteNotConfirmed, media torn down", async () => {
    const call = await service.createCall({});
    const fred = await service.addParticipant(call.id, { identity: user('fred'), media: media(7) });
    await service.muteParticipant(call.id, fred.id);
    const endpoint = plane.endpoint(fred.id);
    endpoint.replaceSendStream = async (_spec: RtpSendSpec, start: ProducerStart) => {
      const never = new Promise<void>(() => undefined); // the worker never answers
      start.producing?.(never);
      await never;
    };
    const err = await rejection(service.replaceParticipantMedia(call.id, fred.id, { payloadType: 100, ssrc: 77 }));
    expect(err.code).toBe('muteNotConfirmed');
    expect(endpoint.closed).toBe(true);
    expect(fred.media).toBeNull();
    expect(fred.isMuted).toBe(true);
  });

  it("a muted WebRTC participant's producer not confirmed in time: 503 muteNotConfirmed, media torn down", async () => {
    const call = await service.createCall({});
    const signaling = new WebRtcSignaling(service);
    const gina = await signaling.join(call.id, user('gina'), {});
    await service.muteParticipant(call.id, gina.id);
    const endpoint = plane.endpoint(gina.id) as FakeWebRtcEndpoint;
    endpoint.produce = async (_transportId: string, _rtp: unknown, start: ProducerStart) => {
      const never = new Promise<{ producerId: string }>(() => undefined);
      start.producing?.(never);
      return never;
    };
    const err = await rejection(signaling.produce(gina, 'send-transport', {}));
    expect(err.code).toBe('muteNotConfirmed');
    expect(endpoint.closed).toBe(true);
    expect(gina.isMuted).toBe(true);
  });
});

describe('confirmWithin', () => {
  it('passes a confirmation in time through, and hands one after the bound to `late` (a late failure is dropped)', async () => {
    await expect(confirmWithin(Promise.resolve(7), 50, 'x')).resolves.toBe(7);
    await expect(confirmWithin(Promise.reject(new Error('refused')), 50, 'x')).rejects.toThrow('refused');

    let release!: (v: string) => void;
    const lateValues: string[] = [];
    const bounded = confirmWithin(new Promise<string>((r) => (release = r)), 20, 'the pause', (v) => lateValues.push(v));
    await expect(bounded).rejects.toBeInstanceOf(NotConfirmedInTime);
    await expect(bounded).rejects.toThrow('did not confirm the pause within 20 ms');
    release('endpoint');
    await sleep(5);
    expect(lateValues).toEqual(['endpoint']);

    // A late rejection, and a `late` that throws, become nothing (no unhandled rejection).
    let fail!: (e: Error) => void;
    const failing = confirmWithin(new Promise<string>((_r, j) => (fail = j)), 10, 'y');
    await expect(failing).rejects.toBeInstanceOf(NotConfirmedInTime);
    fail(new Error('late failure'));
    let releaseThrowing!: (v: string) => void;
    const throwing = confirmWithin(new Promise<string>((r) => (releaseThrowing = r)), 10, 'z', () => {
      throw new Error('undo failed');
    });
    await expect(throwing).rejects.toBeInstanceOf(NotConfirmedInTime);
    releaseThrowing('v');
    await sleep(5);
  });
});
