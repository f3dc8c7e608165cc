import { describe, expect, it } from 'vitest';
import { CallSubscribers } from '../../src/api/ws/CallSubscribers.js';
import type { WireCodec } from '../../src/api/ws/codec.js';
import { jsonCodec } from '../../src/api/ws/jsonCodec.js';
import { protoCodec } from '../../src/api/ws/protoCodec.js';

const subscriber = (codec: WireCodec) => ({ codec });

describe('CallSubscribers', () => {
  it('knows which encodings are in use as subscribers come and go, counting each subscriber once', () => {
    const set = new CallSubscribers<{ codec: WireCodec }>();
    const a = subscriber(jsonCodec);
    const b = subscriber(jsonCodec);
    const c = subscriber(protoCodec);
    set.add(a);
    set.add(a); // subscribing twice to the same call is one subscriber
    set.add(b);
    set.add(c);
    expect(set.size).toBe(3);
    expect(new Set(set.codecs())).toEqual(new Set([jsonCodec, protoCodec]));
    set.delete(a);
    expect(new Set(set.codecs())).toEqual(new Set([jsonCodec, protoCodec]));
    set.delete(b);
    expect([...set.codecs()]).toEqual([protoCodec]);
    set.delete(b); // not a subscriber any more: nothing changes
    set.delete(c);
    expect([...set.codecs()]).toEqual([]);
    expect(set.size).toBe(0);
  });
});
