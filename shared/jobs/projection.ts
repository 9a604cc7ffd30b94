// A dry run's projection: what the earlier occurrences of the same dry run would have written, held
// in memory by the item's table key, so that each later occurrence plans from it exactly as the real
// run plans from what its earlier occurrences wrote. Only the items the dry run would change are
// held, each at its last projected version: memory is O(projected changes), never the whole cohort.
import type { ItemKey } from '../store/keys';

export interface Projection {
  /** The item as the earlier occurrences would have left it, if they would have changed it. */
  get<T>(key: ItemKey): T | undefined;
  set<T>(key: ItemKey, item: T): void;
}

export function createProjection(): Projection {
  const items = new Map<string, unknown>();
  const id = (key: ItemKey) => `${key.pk}\u0000${key.sk}`;
  return {
    get: <T>(key: ItemKey) => items.get(id(key)) as T | undefined,
    set: (key, item) => {
      items.set(id(key), item);
    },
  };
}
