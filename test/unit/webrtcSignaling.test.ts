import { describe, expect, it } from 'vitest';
import { CallService } from '../../src/control/CallService.js';
import { WebRtcSignaling } from '../../src/control/WebRtcSignaling.js';
import { FakeMediaPlane, type FakeWebRtcEndpoint } from '../helpers/fakeMediaPlane.js';

describe('WebRtcSignaling (control plane, no worker)', () => {
  it("creates a muted identity's WebRTC producer paused, and an unmuted one live", async () => {
    const plane = new FakeMediaPlane();
    const service = new CallService(plane, { operationsPerCall: 10 });
    const signaling = new WebRtcSignaling(service);
    const call = await service.createCall({});

    const alice = await signaling.join(call.id, { user: { id: 'alice' } }, {});
    expect(alice.mediaSpec.kind).toBe('webrtc');
    expect(alice.sourceId).toBe('');
    // Muted before producing: nothing flows, the state is recorded.
    await service.muteParticipant(call.id, alice.id);
    const { producerId } = await signaling.produce(alice, 'send-transport', {});
    const ep = plane.endpoint(alice.id) as FakeWebRtcEndpoint;
    expect(ep.produced).toEqual([{ transportId: 'send-transport', paused: true }]);
    expect(alice.sourceId).toBe(producerId);

    const bob = await signaling.join(call.id, { user: { id: 'bob' } }, {});
    await signaling.produce(bob, 'send-transport', {});
    expect((plane.endpoint(bob.id) as FakeWebRtcEndpoint).produced).toEqual([{ transportId: 'send-transport', paused: false }]);

    // Alice leaves and comes back: her new producer is paused too.
    await service.removeParticipant(call.id, alice.id);
    const again = await signaling.join(call.id, { user: { id: 'alice' } }, {});
    await signaling.produce(again, 'send-transport', {});
    expect((plane.endpoint(again.id) as FakeWebRtcEndpoint).produced[0]?.paused).toBe(true);
  });

  it('maps client mistakes to invalidRequest and refuses signaling for a plain-RTP participant', async () => {
    const plane = new FakeMediaPlane();
    const service = new CallService(plane, { operationsPerCall: 10 });
    const signaling = new WebRtcSignaling(service);
    const call = await service.createCall({});
    const rtp = await service.addParticipant(call.id, { identity: { user: { id: 'sip' } }, media: { kind: 'rtp', payloadType: 100, ssrc: 1 } });
    await expect(signaling.createTransport(rtp, 'send')).rejects.toMatchObject({ kind: 'invalidRequest', code: 'notAWebRtcParticipant' });
    const web = await signaling.join(call.id, { user: { id: 'web' } }, {});
    const ep = plane.endpoint(web.id) as FakeWebRtcEndpoint;
    ep.connectTransport = async () => {
      throw new TypeError('dtlsParameters.fingerprints is not iterable');
    };
    await expect(signaling.connectTransport(web, 't', {})).rejects.toMatchObject({ kind: 'invalidRequest', code: 'invalidMediaRequest' });
    expect(() => signaling.routerRtpCapabilities('nope')).toThrow(expect.objectContaining({ code: 'callNotFound' }));
  });
});
