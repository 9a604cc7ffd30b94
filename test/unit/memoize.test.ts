import { describe, expect, it } from 'vitest';
import { memoize } from '../../shared/memoize';

/** A memoized function that records which keys it had to compute. */
const counted = (size: number) => {
  const computed: string[] = [];
  const fn = memoize((key) => {
    computed.push(key);
    return key.toUpperCase();
  }, size);
  return { fn, computed };
};

describe('memoize', () => {
  it('computes each key once while it is cached', () => {
    const { fn, computed } = counted(3);
    expect([fn('a'), fn('b'), fn('a'), fn('b')]).toEqual(['A', 'B', 'A', 'B']);
    expect(computed).toEqual(['a', 'b']);
  });

  it('when full, drops the least recently used key only, not the whole cache', () => {
    const { fn, computed } = counted(3);
    for (const key of ['a', 'b', 'c', 'a', 'd']) fn(key); // 'a' used again, so 'b' is the oldest
    expect(computed).toEqual(['a', 'b', 'c', 'd']);
    for (const key of ['a', 'c', 'd']) fn(key);
    expect(computed).toEqual(['a', 'b', 'c', 'd']); // still cached
    fn('b');
    expect(computed).toEqual(['a', 'b', 'c', 'd', 'b']); // evicted, computed again
  });

  it('stays bounded: a key used once long ago is computed again', () => {
    const { fn, computed } = counted(100);
    for (let i = 0; i < 1_000; i++) fn(`k${i}`);
    fn('k0');
    expect(computed).toHaveLength(1_001);
  });
});
