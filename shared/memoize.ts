import { LRUCache } from 'lru-cache';

/**
 * Caches a pure function of one string, keeping the `size` results used most recently (lru-cache):
 * a working set larger than the cache loses only its least recently used keys, never all of them.
 */
export function memoize<R extends {}>(fn: (key: string) => R, size = 1024): (key: string) => R {
  const cache = new LRUCache<string, R>({ max: size });
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = fn(key);
    cache.set(key, value);
    return value;
  };
}
