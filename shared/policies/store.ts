// Cart policies and cart flags in the table: policies under one partition (a handful; read with one
// Query), flags under another, each flag with the history of its values and the policy behind each.

import { PutCommand, paginateQuery, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { ConflictError, NotFoundError } from '../errors';
import { isLostRace, setIf } from '../store/conditional-write';
import {
  AUDIENCE_SHARDS,
  audiencePartition,
  CART_POLICY_PK,
  cartPolicySk,
  FLAG_PK,
  flagSk,
} from '../store/keys';
import { fromItem } from '../store/promotions';
import { AUDIENCE_INDEX } from '../store/table';
import { formatInstant, type Instant } from '../time';
import {
  type CartFlag,
  type CartPolicy,
  type CartPolicyInput,
  cartChangeTest,
  conflictOf,
  sameContent,
} from './policy';

/** Every item of a partition, page by page (consistent: a job acts on what it reads). */
async function queryAll(deps: Deps, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: deps.db },
    {
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}

export async function listPolicies(deps: Deps): Promise<CartPolicy[]> {
  const policies = (await queryAll(deps, CART_POLICY_PK)).map((item) => fromItem<CartPolicy>(item));
  return policies.sort(
    (a, b) => a.effectiveAt.localeCompare(b.effectiveAt) || a.policyId.localeCompare(b.policyId),
  );
}

export const policyItem = (policy: CartPolicy) => ({
  pk: CART_POLICY_PK,
  sk: cartPolicySk(policy.policyId),
  type: 'CART_POLICY',
  ...policy,
});

export type AnnounceOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Records a policy, or corrects one not yet in force (same id, new content). A correction starts its
 * announcement over, so merchants already told are told the corrected date. Refused: a conflict with
 * another live policy (same scope and instant), and any change to a policy in force or withdrawn.
 */
export async function announcePolicy(deps: Deps, input: CartPolicyInput): Promise<AnnounceOutcome> {
  const policies = await listPolicies(deps);
  const conflict = conflictOf(input, policies);
  if (conflict) {
    throw new ConflictError(
      `policy ${input.policyId} conflicts with ${conflict.policyId}: both set the live-room cart of overlapping categories at ${input.effectiveAt}`,
    );
  }
  const processedAt = formatInstant(deps.clock());
  const existing = policies.find((p) => p.policyId === input.policyId);
  if (existing && sameContent(existing, input) && existing.status !== 'WITHDRAWN') return 'unchanged';
  if (existing && existing.status !== 'SCHEDULED') {
    throw new ConflictError(
      `policy ${input.policyId} is ${existing.status} and can no longer be changed; announce a new policy`,
    );
  }
  const policy: CartPolicy = existing
    ? {
        ...input,
        status: 'SCHEDULED',
        version: existing.version + 1,
        history: [...existing.history, { status: 'CORRECTED', effectiveAt: processedAt, processedAt }],
      }
    : {
        ...input,
        status: 'SCHEDULED',
        version: 1,
        history: [{ status: 'SCHEDULED', effectiveAt: processedAt, processedAt }],
      };
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: policyItem(policy), // replaces the item: a correction drops `announced`, so it goes out again
        ConditionExpression: existing ? 'version = :version' : 'attribute_not_exists(pk)',
        ExpressionAttributeValues: existing ? { ':version': existing.version } : undefined,
      }),
    );
  } catch (error) {
    if (isLostRace(error)) throw new ConflictError(`policy ${input.policyId} changed meanwhile; try again`);
    throw error;
  }
  return existing ? 'updated' : 'created';
}

/**
 * How many merchants each of these policies would tell, given the calendar as stored now: those in
 * the audience (third-party products in live carts) whose cart value the policy changes at its
 * instant. One read of the audience index for all of them; the job decides again at each step.
 */
export async function countAffected(deps: Deps, policyIds: string[]): Promise<Map<string, number>> {
  const policies = await listPolicies(deps);
  const counted = policies
    .filter((p) => policyIds.includes(p.policyId))
    .map((policy) => ({ policy, changes: cartChangeTest(policies, policy) }));
  const counts = new Map(policyIds.map((id) => [id, 0]));
  await Promise.all(
    Array.from({ length: AUDIENCE_SHARDS }, async (_, shard) => {
      const pages = paginateQuery(
        { client: deps.db, pageSize: deps.pageSize },
        {
          TableName: deps.tableName,
          IndexName: AUDIENCE_INDEX.indexName,
          KeyConditionExpression: '#pk = :pk',
          ProjectionExpression: '#categories',
          ExpressionAttributeNames: { '#pk': AUDIENCE_INDEX.partitionKey, '#categories': 'categories' },
          ExpressionAttributeValues: { ':pk': audiencePartition(shard) },
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const categories = (item.categories as string[] | undefined) ?? [];
          for (const { policy, changes } of counted) {
            if (changes(categories)) {
              counts.set(policy.policyId, (counts.get(policy.policyId) ?? 0) + 1);
            }
          }
        }
      }
    }),
  );
  return counts;
}

/** Withdraws a policy not yet in force; merchants told of its announcement are told it is withdrawn. */
export async function withdrawPolicy(
  deps: Deps,
  policyId: string,
  reason: string,
): Promise<{ policyId: string; changed: boolean }> {
  const policy = (await listPolicies(deps)).find((p) => p.policyId === policyId);
  if (!policy) throw new NotFoundError(`no policy ${policyId}`);
  if (policy.status === 'WITHDRAWN') return { policyId, changed: false };
  if (policy.status === 'IN_FORCE')
    throw new ConflictError(`policy ${policyId} is already in force and cannot be withdrawn`);
  const processedAt = formatInstant(deps.clock());
  await updatePolicy(deps, policy, {
    status: 'WITHDRAWN',
    withdrawReason: reason,
    history: [...policy.history, { status: 'WITHDRAWN', effectiveAt: processedAt, processedAt, reason }],
  });
  return { policyId, changed: true };
}

/** Sets fields on a policy if it is still at the version read; false if it changed meanwhile. */
export function updatePolicy(deps: Deps, policy: CartPolicy, fields: Partial<CartPolicy>): Promise<boolean> {
  return setIf(
    deps,
    { pk: CART_POLICY_PK, sk: cartPolicySk(policy.policyId) },
    { ...fields, version: policy.version + 1 },
    {
      expression: '#version = :version',
      names: { '#version': 'version' },
      values: { ':version': policy.version },
    },
  );
}

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
  return (await queryAll(deps, FLAG_PK)).map((item) => fromItem<StoredFlag>(item));
}

/** Moves a stored flag to a value, appending to its history; false if someone else moved it first. */
export async function setFlag(
  deps: Deps,
  current: StoredFlag | undefined,
  flag: CartFlag,
  change: FlagChange,
): Promise<boolean> {
  const key = { pk: FLAG_PK, sk: flagSk(flag.channel, flag.products, flag.scope) };
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: key,
        UpdateExpression:
          'SET #type = :type, channel = :channel, products = :products, #scope = :scope, #value = :value, since = :since, policyId = :policyId, ' +
          '#version = :next, history = list_append(if_not_exists(history, :empty), :change)',
        ConditionExpression: current ? '#version = :version' : 'attribute_not_exists(pk)',
        ExpressionAttributeNames: {
          '#type': 'type',
          '#scope': 'scope',
          '#value': 'value',
          '#version': 'version',
        },
        ExpressionAttributeValues: {
          ':type': 'CART_FLAG',
          ':channel': flag.channel,
          ':products': flag.products,
          ':scope': flag.scope,
          ':value': change.value,
          ':since': change.since,
          ':policyId': change.policyId,
          ':next': (current?.version ?? 0) + 1,
          ':empty': [],
          ':change': [change],
          ...(current ? { ':version': current.version } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
}
