import { describe, expect, it } from 'vitest';
import { sanitizeCreateCallInput, sanitizeJoinInput, sanitizeMediaSpec } from '../../src/control/callInput.js';
import type { CreateCallInput } from '../../src/control/CallService.js';
import { DomainError } from '../../src/control/errors.js';
import { sanitizeIdentitySet } from '../../src/control/identity.js';

function refusal(run: () => unknown): DomainError {
  try {
    run();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError, got success');
}

/** `{ a: { a: … } }`, `depth` levels. */
function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('stored input is a bounded copy', () => {
  it('keeps a Graph identity set (known fields, a few short strings) as a fresh copy', () => {
    const input = {
      '@odata.type': '#microsoft.graph.identitySet',
      user: { '@odata.type': '#microsoft.graph.identity', id: 'alice', displayName: 'Alice Ω 😀', tenantId: 't-1', identityProvider: 'AAD' },
    };
    const stored = sanitizeIdentitySet(input, 'info.identity');
    expect(stored).toEqual(input);
    expect(stored).not.toBe(input);
    expect(stored.user).not.toBe(input.user);
    // Later changes to the request's objects do not reach the stored copy.
    input.user.displayName = 'changed';
    expect(stored.user?.displayName).toBe('Alice Ω 😀');
  });

  it('refuses nesting, non-string values, too many or too long properties, and unsafe text', () => {
    const cases: [string, unknown][] = [
      ['nested extra', { user: { id: 'a', extra: nested(8000) } }],
      ['object extra on the set', { user: { id: 'a' }, device: { id: 'd' } }],
      ['number value', { user: { id: 'a', age: 3 } }],
      ['null displayName', { user: { id: 'a', displayName: null } }],
      ['array identity', { user: ['a'] }],
      ['too many properties', { user: Object.fromEntries([['id', 'a'], ...Array.from({ length: 8 }, (_, i) => [`p${i}`, 'v'])]) }],
      ['long value', { user: { id: 'a', note: 'x'.repeat(257) } }],
      ['long id', { user: { id: 'x'.repeat(257) } }],
      ['long property name', { user: { id: 'a', ['k'.repeat(65)]: 'v' } }],
      ['empty id', { user: { id: '' } }],
      ['missing id', { user: { displayName: 'no id' } }],
      ['lone surrogate in id', { user: { id: 'a\ud800' } }],
      ['lone low surrogate in displayName', { user: { id: 'a', displayName: '\udc00x' } }],
      ['NUL in id', { user: { id: 'a\u0000b' } }],
      ['newline in displayName', { user: { id: 'a', displayName: 'two\nlines' } }],
      ['RTL override in displayName', { user: { id: 'a', displayName: 'evil\u202Etxt.exe' } }],
      ['C1 control', { user: { id: 'a\u0085' } }],
      ['two identities', { user: { id: 'a' }, guest: { id: 'b' } }],
      ['no identity', { '@odata.type': '#microsoft.graph.identitySet' }],
      ['__proto__ key', JSON.parse('{"user":{"id":"a","__proto__":"x"}}')],
      ['not an object', 'user:a'],
    ];
    for (const [name, value] of cases) {
      const err = refusal(() => sanitizeIdentitySet(value, 'info.identity'));
      expect(err.kind, name).toBe('invalidRequest');
      expect(err.code, name).toBe('invalidIdentity');
      expect(err.message, name).toContain('info.identity');
    }
  });

  it('accepts valid unicode at the bounds (256 emoji, ZWJ sequences, RTL text)', () => {
    const stored = sanitizeIdentitySet({ user: { id: '👩‍💻', displayName: '😀'.repeat(256) }, '@odata.type': 'مرحبا' }, 'x');
    expect(stored.user?.displayName).toHaveLength(512);
  });

  it('copies only what a call stores: no meetingInfo, no extra properties of source and targets', () => {
    const input = {
      subject: 'weekly',
      source: { identity: { application: { id: 'bot' } }, extra: nested(6000) },
      targets: [{ identity: { user: { id: 'bob' } }, '@odata.type': '#microsoft.graph.invitationParticipantInfo' }],
      meetingInfo: nested(6000),
      media: { kind: 'rtp', payloadType: 100, ssrc: 7, receive: { ip: '127.0.0.1', port: 4000 }, stray: nested(100) },
    } as unknown as CreateCallInput;
    const settings = sanitizeCreateCallInput(input);
    expect(settings).toEqual({
      subject: 'weekly',
      source: { identity: { application: { id: 'bot' } } },
      targets: [{ identity: { user: { id: 'bob' } } }],
      meeting: true,
      media: { kind: 'rtp', payloadType: 100, ssrc: 7, receive: { ip: '127.0.0.1', port: 4000 } },
      muteOnEntry: false,
    });
    expect(() => JSON.stringify(settings)).not.toThrow();
  });

  it('refuses unsafe call fields', () => {
    const cases: [string, unknown, string][] = [
      ['NUL in subject', { subject: 'a\u0000' }, 'invalidCallRequest'],
      ['lone surrogate in tenantId', { tenantId: '\ud83d' }, 'invalidCallRequest'],
      ['subject too long', { subject: 's'.repeat(1025) }, 'invalidCallRequest'],
      ['subject of the wrong type', { subject: { text: 'x' } }, 'invalidCallRequest'],
      ['callbackUri not http', { callbackUri: 'javascript:alert(1)' }, 'invalidCallRequest'],
      ['callbackUri with NUL', { callbackUri: 'http://127.0.0.1/\u0000' }, 'invalidCallRequest'],
      ['targets not an array', { targets: { identity: { user: { id: 'a' } } } }, 'invalidCallRequest'],
      ['deep target identity', { targets: [{ identity: { user: { id: 'a', x: nested(10) } } }] }, 'invalidIdentity'],
      ['muteOnEntry string', { muteOnEntry: 'true' }, 'invalidCallRequest'],
      ['media ssrc string', { media: { kind: 'rtp', payloadType: 100, ssrc: '5' } }, 'invalidMedia'],
      ['media port out of range', { media: { kind: 'rtp', payloadType: 100, ssrc: 5, receive: { ip: '127.0.0.1', port: 70000 } } }, 'invalidMedia'],
      ['webrtc media for the app', { media: { kind: 'webrtc' } }, 'invalidMedia'],
      ['body not an object', [1, 2], 'invalidCallRequest'],
    ];
    for (const [name, body, code] of cases) {
      expect(refusal(() => sanitizeCreateCallInput(body as CreateCallInput)).code, name).toBe(code);
    }
  });

  it('copies a join: identity and media, SRTP request included', () => {
    const join = sanitizeJoinInput({
      identity: { user: { id: 'alice' } },
      media: { kind: 'rtp', payloadType: 111, ssrc: 0xdeadbeef, srtp: { cryptoSuite: 'AEAD_AES_128_GCM' } },
    });
    expect(join.media).toEqual({ kind: 'rtp', payloadType: 111, ssrc: 0xdeadbeef, srtp: { cryptoSuite: 'AEAD_AES_128_GCM' } });
    expect(sanitizeMediaSpec({ kind: 'webrtc', anything: nested(50) }, 'media')).toEqual({ kind: 'webrtc' });
    expect(refusal(() => sanitizeMediaSpec({ kind: 'rtp', payloadType: 100, ssrc: 1, srtp: { cryptoSuite: 'NULL' } }, 'media')).code).toBe('invalidMedia');
  });
});
