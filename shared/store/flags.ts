// The cart flags repository: one item per flag, with the history of its values and the policy behind each.
import type { Deps } from '../deps';
import type { CartFlag } from '../policies/policy';
import type { Instant } from '../time';
import { atVersion, IS_NEW, writeIf } from './conditional-write';
import { readRecord } from './items';
import { CART_FLAG_TYPE, FLAG_PK, flagKey } from './keys';
import { queryPartition } from './partition-query';

export interface FlagChange {
  value: CartFlag['value'];
  since: Instant;
  policyId: string;
  processedAt: Instant;
  asOf: Instant;
}

export interface StoredFlag extends CartFlag {
  version: number;
  history: FlagChange[];
}

export async function listStoredFlags(deps: Deps): Promise<StoredFlag[]> {
  return (await queryPartition(deps, FLAG_PK)).map((item) => readRecord(CART_FLAG_TYPE, item));
}

/** Moves a stored flag to a value, appending to its history; false if someone else moved it first. */
export async function setFlag(
  deps: Deps,
  current: StoredFlag | undefined,
  flag: CartFlag,
  change: FlagChange,
): Promise<boolean> {
  const outcome = await writeIf(deps, {
    key: flagKey(flag),
    update: {
      set: {
        type: CART_FLAG_TYPE,
        channel: flag.channel,
        products: flag.products,
        scope: flag.scope,
        value: change.value,
        since: change.since,
        policyId: change.policyId,
        version: (current?.version ?? 0) + 1,
      },
      append: { history: [change] },
    },
    condition: current ? atVersion(current.version) : IS_NEW,
  });
  return outcome.written;
}
