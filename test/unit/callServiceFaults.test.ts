import { beforeEach, describe, expect, it } from 'vitest';
import { CallService, type RosterChange } from '../../src/control/CallService.js';
import { DomainError } from '../../src/control/errors.js';
import type { IdentitySet } from '../../src/control/identity.js';
import { InvalidMediaRequest } from '../../src/control/mediaPlane.js';
import { Moderation } from '../../src/control/Moderation.js';
import type { RtpMediaSpec } from '../../src/control/Participant.js';
import { rejection, user } from '../helpers/domainFixtures.js';
import { FakeMediaPlane, type FakeCallMedia } from '../helpers/fakeMediaPlane.js';

const media = (ssrc: number): RtpMediaSpec => ({ kind: 'rtp', payloadType: 100, ssrc, receive: { ip: '127.0.0.1', port: 40000 + ssrc } });

/** Makes the next addRtpEndpoint of `callMedia` fail with `error`, after `before` ran (e.g. the worker dying). */
function failNextAdd(callMedia: FakeCallMedia, error: Error, before: () => void = () => undefined): void {
  const original = callMedia.addRtpEndpoint.bind(callMedia);
  callMedia.addRtpEndpoint = async (...args) => {
    callMedia.addRtpEndpoint = original;
    before();
    throw error;
  };
}

describe('CallService faults (no worker): events cannot break operations, no half-done state', () => {
  let plane: FakeMediaPlane;
  let service: CallService;
  let listenerErrors: string[];

  beforeEach(() => {
    plane = new FakeMediaPlane();
    service = new CallService(plane, { operationsPerCall: 20 });
    listenerErrors = [];
    service.onListenerError((event, err) => listenerErrors.push(`${event}: ${(err as Error).message}`));
  });

  it('completes a confirmed mute and a join whatever roster and operation listeners throw', async () => {
    const call = await service.createCall({});
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    const seen: number[] = [];
    service.on('roster', () => {
      throw new Error('roster listener bug');
    });
    service.on('operationFinished', () => {
      throw new Error('metrics listener bug');
    });
    service.on('roster', (_call, change) => seen.push(change.sequence));

    const op = await service.muteParticipant(call.id, alice.id, 'ctx');
    expect(op.status).toBe('completed');
    expect(op.resultInfo).toBeUndefined();
    expect(alice.isMuted).toBe(true);
    expect(plane.endpoint(alice.id).sendPaused).toBe(true);
    expect(service.getOperation(call.id, op.id).status).toBe('completed');

    const bob = await service.addParticipant(call.id, { identity: user('bob'), media: media(2) });
    expect(call.participants.get(bob.id)).toBe(bob);
    // The listener after the broken one still got every change, in order.
    expect(seen).toEqual([2, 3]);
    expect(listenerErrors).toEqual(['roster: roster listener bug', 'operationFinished: metrics listener bug', 'roster: roster listener bug']);

    // Moderation's emits too: mute all completes, lock completes.
    const moderation = new Moderation(service);
    expect((await moderation.muteAll(call.id, [], 'app')).status).toBe('completed');
    expect((await moderation.lock(call.id, bob.id)).status).toBe('completed');
    expect(bob.locked).toBe(true);
  });

  it('a join whose media fails leaves no participant and no state change; a failed rejoin keeps the old leg', async () => {
    const call = await service.createCall({ muteOnEntry: true });
    const callMedia = plane.calls[0] as FakeCallMedia;
    const roster: RosterChange['kind'][] = [];
    service.on('roster', (_c, change) => roster.push(change.kind));

    failNextAdd(callMedia, new Error('worker overloaded'));
    const err = await rejection(service.addParticipant(call.id, { identity: user('alice'), media: media(1) }));
    expect(err).toMatchObject({ kind: 'mediaUnavailable', code: 'mediaRequestFailed' });
    expect(call.participants.size).toBe(0);
    expect(roster).toEqual([]);

    // Mute on entry still applies: the failed join did not count as the first one.
    const alice = await service.addParticipant(call.id, { identity: user('alice'), media: media(1) });
    expect(alice.isMuted).toBe(true);
    await service.unmuteParticipant(call.id, alice.id);

    failNextAdd(callMedia, new InvalidMediaRequest('bad parameters'));
    const again = await rejection(service.addParticipant(call.id, { identity: user('alice'), media: media(2) }));
    expect(again).toMatchObject({ kind: 'invalidRequest', code: 'invalidMediaRequest' });
    expect([...call.participants.values()]).toEqual([alice]);
    expect(alice.media).not.toBeNull();
    expect(alice.isMuted).toBe(false);
    expect(roster).toEqual(['joined', 'updated']);
  });

  it('a join in flight when the worker dies is callMediaLost, and leaves nothing behind', async () => {
    const call = await service.createCall({});
    const callMedia = plane.calls[0] as FakeCallMedia;
    failNextAdd(callMedia, new Error('Channel closed'), () => callMedia.loseMedia('worker died'));
    const err = await rejection(service.addParticipant(call.id, { identity: user('alice'), media: media(1) }));
    expect(err).toMatchObject({ kind: 'mediaUnavailable', code: 'callMediaLost' });
    expect(call.participants.size).toBe(0);
  });

  it('createCall: refused input stores nothing, failed media leaves no call, failed app join leaves no call', async () => {
    const created: string[] = [];
    service.on('callCreated', (call) => created.push(call.id));

    const refused = await rejection(service.createCall({ source: { identity: { user: { id: 'a\u0000' } } } }));
    expect(refused.code).toBe('invalidIdentity');
    expect(plane.openCalls).toBe(0);

    plane.failOpens = 1;
    expect(await rejection(service.createCall({}))).toMatchObject({ kind: 'mediaUnavailable', code: 'mediaRequestFailed' });

    // The app's own leg fails after the router was opened: the call goes, its router is closed.
    const opening = service.createCall({ source: { identity: { application: { id: 'bot' } } }, media: media(9) });
    await Promise.resolve();
    const callMedia = plane.calls[0] as FakeCallMedia;
    failNextAdd(callMedia, new Error('worker overloaded'));
    expect((await rejection(opening)).code).toBe('mediaRequestFailed');
    expect(callMedia.closed).toBe(true);
    expect(service.listCalls()).toEqual([]);
    expect(created).toEqual([]);
  });

  it('stores its own copy of what a call and a participant keep', async () => {
    const source = { identity: { application: { id: 'bot', displayName: 'Bot' } } };
    const call = await service.createCall({ subject: 's', source, targets: [{ identity: user('bob') }] });
    source.identity.application.displayName = 'changed later';
    expect(call.source).toEqual({ identity: { application: { id: 'bot', displayName: 'Bot' } } });

    const identity = user('alice');
    const spec = media(3);
    const alice = await service.addParticipant(call.id, { identity, media: spec });
    expect(alice.identity).not.toBe(identity);
    expect(alice.identity).toEqual(identity);
    spec.ssrc = 99;
    expect(alice.mediaSpec).toMatchObject({ ssrc: 3 });

    expect((await rejection(service.muteOwn(call.id, alice.id, 'c'.repeat(257)))).code).toBe('invalidClientContext');
    expect(call.operations.size).toBe(0);
  });
});
