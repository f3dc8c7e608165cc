/**
 * No request of any API nests deeper than a dozen levels (a WebRTC device's RTP capabilities,
 * the deepest, reach about six), while code that recurses over a value (JSON.stringify, a
 * schema validator, a logger) overflows its stack somewhere past a few thousand. Requests are
 * refused above this depth before anything looks into them.
 */
export const MAX_REQUEST_NESTING = 32;

/**
 * Whether objects and arrays in `value` nest deeper than `maxDepth` (a flat object is depth 1).
 * Iterative, so that checking a hostile value cannot overflow the stack itself; it stops at the
 * first branch that is too deep.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return false;
}
