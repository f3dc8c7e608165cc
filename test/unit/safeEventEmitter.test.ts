import { describe, expect, it } from 'vitest';
import { SafeEventEmitter } from '../../src/lib/SafeEventEmitter.js';

type Events = { tick: [n: number]; other: [] };

describe('SafeEventEmitter', () => {
  it('calls every listener even when one throws, and reports the error instead of throwing it', () => {
    const emitter = new SafeEventEmitter<Events>();
    const reported: [string, unknown][] = [];
    emitter.onListenerError((event, err) => reported.push([event, err]));
    const seen: string[] = [];
    const boom = new Error('listener bug');
    emitter.on('tick', (n) => seen.push(`a${n}`));
    emitter.on('tick', () => {
      throw boom;
    });
    emitter.on('tick', (n) => seen.push(`c${n}`));

    expect(emitter.emit('tick', 1)).toBe(true);
    expect(seen).toEqual(['a1', 'c1']);
    expect(reported).toEqual([['tick', boom]]);
    expect(emitter.emit('other')).toBe(false);
  });

  it('reports a rejected promise of an async listener', async () => {
    const emitter = new SafeEventEmitter<Events>();
    const reported: string[] = [];
    emitter.onListenerError((event, err) => reported.push(`${event}:${(err as Error).message}`));
    emitter.on('tick', async () => {
      throw new Error('async bug');
    });
    emitter.emit('tick', 2);
    await new Promise((r) => setTimeout(r, 0));
    expect(reported).toEqual(['tick:async bug']);
  });

  it('keeps once-listeners once, and survives a failing error handler', () => {
    const emitter = new SafeEventEmitter<Events>();
    const handled: string[] = [];
    emitter.onListenerError(() => {
      throw new Error('broken logger');
    });
    emitter.onListenerError((event) => handled.push(event));
    let calls = 0;
    emitter.once('tick', () => {
      calls++;
      throw new Error('once bug');
    });
    expect(() => emitter.emit('tick', 1)).not.toThrow();
    emitter.emit('tick', 2);
    expect(calls).toBe(1);
    expect(handled).toEqual(['tick']);
    expect(emitter.listenerCount('tick')).toBe(0);
  });

  it('does not throw on an unhandled "error" event', () => {
    const emitter = new SafeEventEmitter<{ error: [err: Error] }>();
    expect(emitter.emit('error', new Error('nobody listens'))).toBe(false);
  });
});
