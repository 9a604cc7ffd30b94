/** Caches a pure function of one string, keeping at most `size` results (then starting afresh). */
export function memoize<R>(fn: (key: string) => R, size = 1024): (key: string) => R {
  const cache = new Map<string, R>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = fn(key);
    if (cache.size >= size) cache.clear();
    cache.set(key, value);
    return value;
  };
}
