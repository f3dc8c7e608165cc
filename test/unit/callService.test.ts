import { beforeEach, describe, expect, it } from 'vitest';
import { CallService } from '../../src/control/CallService.js';
import { DomainError } from '../../src/control/errors.js';
import type { IdentitySet } from '../../src/control/identity.js';
import type { Operation } from '../../src/control/Operation.js';
import type { RtpMediaSpec } from '../../src/control/Participant.js';
import { rejection, user } from '../helpers/domainFixtures.js';
import { FakeMediaPlane } from '../helpers/fakeMediaPlane.js';

const media = (ssrc: number): RtpMediaSpec => ({ kind: 'rtp', payloadType: 100, ssrc });

describe('CallService (control plane, no worker)', () => {
  let plane: FakeMediaPlane;
  let service: CallService;

  beforeEach(() => {
    plane = new FakeMediaPlane();
    service = new CallService(plane, { operationsPerCall: 5 });
  });

  it('acts on the person behind a replaced leg, but a connection removes only its own leg', async () => {
    const call = await service.createCall({});
    const first = await service.addParticipant(call.id, { identity: user('mallory'), media: media(1) });
    const second = await service.addParticipant(call.id, { identity: user('mallory'), media: media(2) });
    // Reads are exact; actions follow the person.
    expect((await rejection(Promise.resolve().then(() => service.getParticipant(call.id, first.id)))).code).toBe('participantNotFound');
    expect(service.actionTarget(call.id, first.id)).toBe(second);
    const operation = await service.muteParticipant(call.id, first.id);
    expect(operation.status).toBe('completed');
    expect(second.isMuted).toBe(true);
    expect(plane.endpoint(second.id).sendPaused).toBe(true);
    // A signaling connection that closes removes its own (replaced) leg only: the newer one stays.
    expect((await rejection(service.removeLeg(first))).code).toBe('participantNotFound');
    expect([...call.participants.values()]).toEqual([second]);
    // A removal aimed at the old id removes the person.
    await service.removeParticipant(call.id, first.id);
    expect(call.participants.size).toBe(0);
    expect(() => service.actionTarget(call.id, first.id)).toThrow(/not found/);
  });

  it('holds at most participantsPerCall people, counting joins in progress; rejoins always fit', async () => {
    const limited = new CallService(plane, { operationsPerCall: 5, participantsPerCall: 2 });
    const call = await limited.createCall({});
    const joins = await Promise.allSettled(['a', 'b', 'c', 'd'].map((id, i) => limited.addParticipant(call.id, { identity: user(id), media: media(10 + i) })));
    expect(joins.filter((j) => j.status === 'fulfilled').length).toBe(2);
    for (const j of joins) if (j.status === 'rejected') expect((j.reason as DomainError).code).toBe('callFull');
    const present = [...call.participants.values()][0];
    await limited.addParticipant(call.id, { identity: present!.identity, media: media(20) });
    expect(call.participants.size).toBe(2);
  });

  it('completes a mute only after the media plane confirmed the pause', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const ep = plane.endpoint(alice.id);
    const held = ep.hold();

    const pending = service.muteParticipant(call.id, alice.id, 'ctx-1');
    await new Promise((r) => setTimeout(r, 20));
    expect(ep.log).toEqual(['pause']);
    expect(alice.isMuted).toBe(false); // not yet confirmed
    expect(call.operations.size).toBe(1); // recorded, still running

    held.release();
    const operation = await pending;
    expect(operation).toMatchObject({ type: 'muteParticipant', status: 'completed', clientContext: 'ctx-1' });
    expect(alice.isMuted).toBe(true);
    expect(ep.sendPaused).toBe(true);
    expect(service.getOperation(call.id, operation.id)).toBe(operation);
  });

  it('serializes operations on one participant in arrival order', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const ep = plane.endpoint(alice.id);
    const held = ep.hold();
    const results = Promise.all([
      service.muteParticipant(call.id, alice.id),
      service.unmuteParticipant(call.id, alice.id),
      service.muteParticipant(call.id, alice.id),
      service.unmuteParticipant(call.id, alice.id),
    ]);
    await new Promise((r) => setTimeout(r, 20));
    // The first pause is in flight; nothing else has reached the media yet.
    expect(ep.log).toEqual(['pause']);
    held.release();
    const ops = await results;
    expect(ep.log).toEqual(['pause', 'resume', 'pause', 'resume']);
    expect(ops.map((o) => o.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(alice.isMuted).toBe(false);
    expect(ep.sendPaused).toBe(false);
  });

  it('starts the producer of a muted identity paused when it rejoins, and replaces the old leg', async () => {
    const call = await service.createCall({});
    const first = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    await service.muteParticipant(call.id, first.id);
    await service.removeParticipant(call.id, first.id);

    const second = await service.addParticipant(call.id, { identity: user('alice'), media: media(2) });
    expect(second.id).not.toBe(first.id);
    expect(second.isMuted).toBe(true);
    expect(plane.endpoint(second.id).sendPaused).toBe(true);

    // Joining again without leaving replaces the leg and keeps the mute.
    const third = await service.addParticipant(call.id, { identity: user('alice'), media: media(3) });
    expect(plane.endpoint(second.id).closed).toBe(true);
    expect(() => service.getParticipant(call.id, second.id)).toThrow(DomainError);
    expect(third.isMuted).toBe(true);
    expect(plane.endpoint(third.id).sendPaused).toBe(true);
    expect(call.participants.size).toBe(1);

    // Another person is not affected.
    const bob = await service.addParticipant(call.id, { identity: user('bob'), media: media(4) });
    expect(plane.endpoint(bob.id).sendPaused).toBe(false);
  });

  it('keeps a new send stream of a muted participant paused', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    await service.muteParticipant(call.id, alice.id);
    await service.replaceParticipantMedia(call.id, alice.id, { payloadType: 111, ssrc: 99 });
    const ep = plane.endpoint(alice.id);
    expect(ep.log).toEqual(['pause', 'replace:true']);
    expect(ep.sendPaused).toBe(true);
    expect(alice.mediaSpec).toMatchObject({ payloadType: 111, ssrc: 99 });
    await service.unmuteParticipant(call.id, alice.id);
    await service.replaceParticipantMedia(call.id, alice.id, { payloadType: 111, ssrc: 100 });
    expect(ep.log.at(-1)).toBe('replace:false');
  });

  it('fails closed when the worker cannot confirm a mute: media torn down, state muted, operation failed', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const ep = plane.endpoint(alice.id);
    ep.failNext = new Error('channel closed');

    const err = await rejection(service.muteParticipant(call.id, alice.id, 'x'));
    expect(err.kind).toBe('mediaUnavailable');
    expect(err.code).toBe('muteNotConfirmed');
    expect(err.operationId).toBeDefined();
    expect(ep.closed).toBe(true);
    expect(alice.media).toBeNull();
    expect(alice.isMuted).toBe(true);
    const op = service.getOperation(call.id, err.operationId as string);
    expect(op.status).toBe('failed');
    expect(op.resultInfo?.message).toContain('channel closed');
  });

  it('leaves the participant muted when an unmute cannot be confirmed', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    await service.muteParticipant(call.id, alice.id);
    plane.endpoint(alice.id).failNext = new Error('worker busy');
    const err = await rejection(service.unmuteParticipant(call.id, alice.id));
    expect(err.kind).toBe('mediaUnavailable');
    expect(alice.isMuted).toBe(true);
    expect(plane.endpoint(alice.id).sendPaused).toBe(true);
  });

  it('refuses participant mute in a peer-to-peer call but lets the app mute itself', async () => {
    const app: IdentitySet = { application: { id: 'bot' } };
    const call = await service.createCall({ source: { identity: app }, targets: [{ identity: user('bob') }], media: media(7) });
    expect(call.kind).toBe('peerToPeer');
    const bot = call.appParticipant();
    expect(bot).toBeDefined();
    const err = await rejection(service.muteParticipant(call.id, bot!.id));
    expect(err).toMatchObject({ kind: 'invalidRequest', code: 'groupCallsOnly' });
    expect(call.operations.size).toBe(0);

    const op = await service.muteApp(call.id, 'self');
    expect(op).toMatchObject({ status: 'completed', participantId: bot!.id, clientContext: 'self' });
    expect(bot!.isMuted).toBe(true);
    await service.unmuteApp(call.id);
    expect(bot!.isMuted).toBe(false);
  });

  it('classifies calls: one target without meeting/chat info is peer-to-peer, everything else a group call', async () => {
    expect((await service.createCall({})).kind).toBe('group');
    expect((await service.createCall({ targets: [{ identity: user('a') }] })).kind).toBe('peerToPeer');
    expect((await service.createCall({ targets: [{ identity: user('a') }], meetingInfo: {} })).kind).toBe('group');
    expect((await service.createCall({ targets: [{ identity: user('a') }, { identity: user('b') }] })).kind).toBe('group');
  });

  it('reports unknown calls, participants, operations and a missing app participant as notFound', async () => {
    const call = await service.createCall({});
    expect(() => service.getCall('nope')).toThrow(expect.objectContaining({ kind: 'notFound', code: 'callNotFound' }));
    await expect(service.muteParticipant(call.id, 'nope')).rejects.toMatchObject({ code: 'participantNotFound' });
    expect(() => service.getOperation(call.id, 'nope')).toThrow(expect.objectContaining({ code: 'operationNotFound' }));
    await expect(service.muteApp(call.id)).rejects.toMatchObject({ kind: 'notFound', code: 'participantNotFound' });
  });

  it('rejects identity sets that do not hold exactly one identity', async () => {
    const call = await service.createCall({});
    await expect(service.addParticipant(call.id, { identity: {}, media: media(1) })).rejects.toMatchObject({ code: 'invalidIdentity' });
    await expect(
      service.addParticipant(call.id, { identity: { user: { id: 'a' }, guest: { id: 'b' } }, media: media(1) }),
    ).rejects.toMatchObject({ code: 'invalidIdentity' });
    await expect(service.createCall({ media: media(1) })).rejects.toMatchObject({ code: 'sourceIdentityRequired' });
  });

  it('keeps only the newest operations per call', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const ops: Operation[] = [];
    for (let i = 0; i < 7; i++) ops.push(await service.muteParticipant(call.id, alice.id, `n${i}`));
    expect(call.operations.size).toBe(5);
    expect(() => service.getOperation(call.id, ops[0]!.id)).toThrow(DomainError);
    expect(service.getOperation(call.id, ops[6]!.id).clientContext).toBe('n6');
  });

  it('tears down every participant and the router when a call is deleted', async () => {
    const call = await service.createCall({});
    const a = await service.addParticipant(call.id, { identity: user('a'), media: media(1) });
    const changes: string[] = [];
    service.on('roster', (_c, change) =>
      changes.push(`${change.sequence}:${change.kind}${change.kind === 'left' ? `:${change.participant.id}:${change.reason}` : ''}`),
    );
    service.deleteCall(call.id);
    expect(plane.calls[0]!.closed).toBe(true);
    expect(plane.endpoint(a.id).closed).toBe(true);
    // Sequence 1 was a's join.
    expect(changes).toEqual([`2:left:${a.id}:callEnded`, '3:callEnded']);
    expect(() => service.getCall(call.id)).toThrow(DomainError);
    expect(service.stats()).toEqual({ calls: 0, participants: 0, mutedParticipants: 0 });
  });

  it('fails closed when the media is lost: state kept, mutes recorded, media rebuilt paused for the muted', async () => {
    const call = await service.createCall({});
    const a = await service.addParticipant(call.id, { identity: user('a'), media: media(1) });
    const b = await service.addParticipant(call.id, { identity: user('b'), media: media(2) });
    const web = await service.addParticipant(call.id, { identity: user('w'), media: { kind: 'webrtc' } });
    await service.muteParticipant(call.id, a.id);
    const reconnects: string[] = [];
    const told: string[] = [];
    service.on('roster', (_c, change) => {
      if (change.kind === 'reconnect') reconnects.push(change.participant.id);
    });
    service.on('reconnectRequired', (_c, p) => told.push(p.id));
    const recovered = new Promise((resolve) => service.once('callMediaRecovered', resolve));
    plane.failOpens = 2; // the replacement worker is not up yet
    plane.calls[0]!.loseMedia();

    expect(call.mediaLost).toBe(true);
    expect(a.media).toBeNull();
    expect(a.isMuted).toBe(true);
    // Nothing can flow without media, so the state change alone is the truth.
    const op = await service.muteParticipant(call.id, b.id);
    expect(op.status).toBe('completed');
    expect(b.isMuted).toBe(true);
    await expect(service.addParticipant(call.id, { identity: user('c'), media: media(3) })).rejects.toMatchObject({
      kind: 'mediaUnavailable',
      code: 'callMediaLost',
    });

    await recovered;
    expect(plane.openCalls).toBe(2); // the first router, then one that worked after two failures
    expect(call.mediaLost).toBe(false);
    expect(plane.calls[1]!.endpoints.map((e) => [e.participantId, e.sendPaused])).toEqual([
      [a.id, true],
      [b.id, true],
    ]);
    expect(reconnects).toEqual([a.id, b.id]);
    // The WebRTC participant cannot be rebuilt server-side: it is told to join again and leaves.
    expect(told).toEqual([web.id]);
    expect(call.participants.has(web.id)).toBe(false);
    // And the call takes joins again.
    await service.addParticipant(call.id, { identity: user('c'), media: media(3) });
  });

  it('says why each participant left: removed, left, replaced, mediaLost, then callEnded before the end of the call', async () => {
    const call = await service.createCall({});
    const changes: string[] = [];
    service.on('roster', (_c, change) => {
      if (change.kind === 'left') changes.push(`${change.participant.id}:${change.reason}`);
      if (change.kind === 'callEnded') changes.push('callEnded');
    });
    const removed = await service.addParticipant(call.id, { identity: user('removed'), media: media(1) });
    const quitter = await service.addParticipant(call.id, { identity: user('quitter'), media: media(2) });
    const closedConnection = await service.addParticipant(call.id, { identity: user('closed'), media: { kind: 'webrtc' } });
    const firstDevice = await service.addParticipant(call.id, { identity: user('mover'), media: media(3) });
    const secondDevice = await service.addParticipant(call.id, { identity: user('mover'), media: media(4) });
    const browser = await service.addParticipant(call.id, { identity: user('browser'), media: { kind: 'webrtc' } });

    await service.removeParticipant(call.id, removed.id); // the application's or a moderator's DELETE
    await service.removeParticipant(call.id, quitter.id, 'left'); // its own DELETE
    await service.removeLeg(closedConnection); // its signaling connection closed (or it sent leave)
    const recovered = new Promise((resolve) => service.once('callMediaRecovered', resolve));
    plane.calls[0]!.loseMedia(); // a WebRTC leg cannot be rebuilt server-side
    await recovered;
    service.deleteCall(call.id);

    expect(changes).toEqual([
      `${firstDevice.id}:replaced`,
      `${removed.id}:removed`,
      `${quitter.id}:left`,
      `${closedConnection.id}:left`,
      `${browser.id}:mediaLost`,
      `${secondDevice.id}:callEnded`,
      'callEnded',
    ]);
  });

  it('emits one numbered roster update per real state change and operationFinished per operation', async () => {
    const call = await service.createCall({});
    const a = await service.addParticipant(call.id, { identity: user('a'), media: media(1) });
    const updates: string[] = [];
    const finished: string[] = [];
    service.on('roster', (_c, change) => {
      if (change.kind === 'updated') updates.push(`${change.sequence}:${change.participant.isMuted}`);
    });
    service.on('operationFinished', (op, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      finished.push(`${op.type}:${op.status}`);
    });
    await service.muteParticipant(call.id, a.id);
    await service.muteParticipant(call.id, a.id);
    await service.unmuteParticipant(call.id, a.id);
    expect(updates).toEqual(['2:true', '3:false']);
    expect(call.rosterSequence).toBe(3);
    expect(finished).toEqual(['muteParticipant:completed', 'muteParticipant:completed', 'unmuteParticipant:completed']);
  });
});
