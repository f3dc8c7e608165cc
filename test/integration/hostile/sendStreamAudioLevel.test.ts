import { describe, expect, it } from 'vitest';
import { useGateway } from '../../helpers/gateway.js';
import { createGroupCall, joinRtp, PAYLOAD_TYPE } from '../../helpers/rtpCall.js';

/**
 * A sloppy client renegotiates its send stream (a SIP re-INVITE: new SSRC) and puts the RFC 6464
 * audio-level extension id in the PATCH too: out of range, of the wrong type, or another id than
 * the join declared. The gateway keeps the join's id for every new send stream (README "Join a
 * participant"), so a PATCH naming anything else cannot be honoured: it must be a clear 400 that
 * changes nothing, never a 200 that silently keeps reading the level under the old id (speaker
 * ranking and talking-while-muted would then read whatever the sender puts under that id).
 */
describe('hostile: audioLevelExtensionId in a PATCH of the send stream', () => {
  const fx = useGateway();

  it('is refused (400) when invalid or different from the join, and nothing changes; the same id or none is accepted', async () => {
    const callId = await createGroupCall(fx.api);
    const alice = await joinRtp(fx.api, callId, { audioLevelExtensionId: 3 });
    fx.peers.push(alice.peer);
    const path = `/communications/calls/${callId}/participants/${alice.id}`;
    const media = async () => (await fx.api.get(path)).body.media as { ssrc: number; audioLevelExtensionId: number | null };

    const refused: [string, unknown, string][] = [
      ['reserved id 15', 15, 'invalidRequestBody'],
      ['id 0', 0, 'invalidRequestBody'],
      ['a string', '2', 'invalidRequestBody'],
      ['null', null, 'invalidRequestBody'],
      ['a fraction', 2.5, 'invalidRequestBody'],
      ['another valid id than the join declared', 2, 'invalidMedia'],
    ];
    for (const [what, value, code] of refused) {
      const res = await fx.api.patch(path, { media: { payloadType: PAYLOAD_TYPE, ssrc: 0x5151, audioLevelExtensionId: value } });
      expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.code, what).toBe('badRequest');
      expect(res.body.error.innerError.code, what).toBe(code);
      expect(res.body.error.message, what).toMatch(/audioLevelExtensionId/);
      // Refused means nothing happened: the old stream and the join's extension id stand.
      expect(await media(), what).toMatchObject({ ssrc: alice.ssrc, audioLevelExtensionId: 3 });
    }

    const same = await fx.api.patch(path, { media: { payloadType: PAYLOAD_TYPE, ssrc: 0x5252, audioLevelExtensionId: 3 } });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(await media()).toMatchObject({ ssrc: 0x5252, audioLevelExtensionId: 3 });
    const without = await fx.api.patch(path, { media: { payloadType: PAYLOAD_TYPE, ssrc: 0x5353 } });
    expect(without.status, JSON.stringify(without.body)).toBe(200);
    expect(await media()).toMatchObject({ ssrc: 0x5353, audioLevelExtensionId: 3 });
  });

  it('a leg joined without the extension cannot be given one by a PATCH (400 invalidMedia)', async () => {
    const callId = await createGroupCall(fx.api);
    const bob = await joinRtp(fx.api, callId);
    fx.peers.push(bob.peer);
    const path = `/communications/calls/${callId}/participants/${bob.id}`;
    const res = await fx.api.patch(path, { media: { payloadType: PAYLOAD_TYPE, ssrc: 0x6161, audioLevelExtensionId: 1 } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.innerError.code).toBe('invalidMedia');
    expect((await fx.api.get(path)).body.media).toMatchObject({ ssrc: bob.ssrc, audioLevelExtensionId: null });
  });
});
