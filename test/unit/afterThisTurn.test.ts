import { describe, expect, it } from 'vitest';
import { AfterThisTurn } from '../../src/lib/afterThisTurn.js';

describe('AfterThisTurn', () => {
  it('runs jobs after the current turn, in order, and a failing job does not stop the others', async () => {
    const errors: unknown[] = [];
    const later = new AfterThisTurn((error) => errors.push(error));
    const ran: number[] = [];
    later.run(() => ran.push(1));
    later.run(() => {
      throw new Error('broken');
    });
    later.run(() => ran.push(3));
    await Promise.resolve(); // microtasks are still this turn
    expect(ran).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    // Jobs submitted while draining (or later) run in a following turn.
    later.run(() => ran.push(4));
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual([1, 3, 4]);
  });
});
