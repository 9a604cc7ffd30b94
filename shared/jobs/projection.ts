// A dry run's projection: what the earlier occurrences of the same dry run would have written, held
// in memory by the item's table key, so that each later occurrence plans from it exactly as the real
// run plans from what its earlier occurrences wrote. Only the items the dry run would change are
// held, each at its last projected version: memory is O(projected changes), never the whole cohort.
import type { ItemKey } from '../store/keys';

export interface Projection {
  /** The item as the earlier occurrences would have left it, if they would have changed it. */
  get<T>(key: ItemKey): T | undefined;
  /** `created`: the item is not in the table at all (no index returns it), the dry run made it. */
  set<T>(key: ItemKey, item: T, options?: { created?: boolean }): void;
  /**
   * The items the dry run created, as projected now: the real run would find them in the due index,
   * so a dry run's sweep reads them from here instead.
   */
  created(): Record<string, unknown>[];
}

export function createProjection(): Projection {
  const items = new Map<string, unknown>();
  const created = new Set<string>();
  const id = (key: ItemKey) => `${key.pk}\u0000${key.sk}`;
  return {
    get: <T>(key: ItemKey) => items.get(id(key)) as T | undefined,
    set: (key, item, options) => {
      items.set(id(key), item);
      if (options?.created) created.add(id(key));
    },
    created: () => [...created].map((key) => items.get(key) as Record<string, unknown>),
  };
}
