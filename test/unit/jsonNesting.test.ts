import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src/lib/jsonNesting.js';

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, not scalars, and handles hostile depth without recursion', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan({ a: 1, b: 'x' }, 1)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: null }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: {} }] }, 3)).toBe(true);
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(nestsDeeperThan(deep, 32)).toBe(true);
    expect(nestsDeeperThan({ wide: Array.from({ length: 10_000 }, (_, i) => ({ i })) }, 32)).toBe(false);
  });
});
