// The lease items `JOB#<job> / LEASE`: who runs a job now, and until when. What a lease means —
// heartbeat, fencing, waiting — is shared/jobs/lease.ts; here is only how the item is read and written.
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { isLostRace, itemAfterLostRace } from './conditional-write';
import { type LeaseItem, leaseItemSchema, parseItem } from './items';
import { JOB_LEASE_TYPE, jobPk, LEASE_SK } from './keys';

export type { LeaseItem } from './items';

/** What a holder writes on its lease each time it takes or renews it. */
export type LeaseFields = Omit<LeaseItem, 'pk' | 'sk' | 'type' | 'ttl'> & { heartbeatAt: string };

/** A conditional lease write: written, or not, with the lease as it is now (none if it was deleted). */
export type LeaseWrite = { written: true } | { written: false; current?: LeaseItem };

const leaseKey = (job: string) => ({ pk: jobPk(job), sk: LEASE_SK });

/** The job's lease as stored, read consistently, or undefined when no run holds it. */
export async function getLease(deps: Deps, job: string): Promise<LeaseItem | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: leaseKey(job), ConsistentRead: true }),
  );
  return Item ? parseItem(leaseItemSchema, Item) : undefined;
}

async function putLease(
  deps: Deps,
  lease: LeaseFields,
  condition: { expression: string; values: Record<string, unknown> },
): Promise<LeaseWrite> {
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          ...leaseKey(lease.job),
          type: JOB_LEASE_TYPE,
          ...lease,
          // DynamoDB TTL (seconds) tidies up leases nobody released; correctness never relies on it.
          ttl: Math.ceil(lease.expiresAtMs / 1000) + 3600,
        },
        ConditionExpression: condition.expression,
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: condition.values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { written: true };
  } catch (error) {
    if (!isLostRace(error)) throw error;
    const current = itemAfterLostRace(error);
    return { written: false, current: current ? parseItem(leaseItemSchema, current) : undefined };
  }
}

/**
 * Writes the lease if it is free, lapsed at `nowMs`, or already this owner's (the SDK retried a put
 * whose reply was lost).
 */
export const takeLease = (deps: Deps, lease: LeaseFields, nowMs: number): Promise<LeaseWrite> =>
  putLease(deps, lease, {
    expression: 'attribute_not_exists(pk) OR expiresAtMs <= :now OR #owner = :owner',
    values: { ':now': nowMs, ':owner': lease.owner },
  });

/** Writes the lease only if it is still this owner's. */
export const renewLease = (deps: Deps, lease: LeaseFields): Promise<LeaseWrite> =>
  putLease(deps, lease, { expression: '#owner = :owner', values: { ':owner': lease.owner } });

/**
 * Deletes the job's lease if it is still `owner`'s (and, given `expiresAtMs`, still the one looked
 * at); false when it was not (taken over, renewed or already gone).
 */
export async function deleteLease(
  deps: Deps,
  job: string,
  owner: string,
  expiresAtMs?: number,
): Promise<boolean> {
  try {
    await deps.db.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: leaseKey(job),
        ConditionExpression:
          expiresAtMs === undefined ? '#owner = :owner' : '#owner = :owner AND expiresAtMs = :expiresAtMs',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues:
          expiresAtMs === undefined ? { ':owner': owner } : { ':owner': owner, ':expiresAtMs': expiresAtMs },
      }),
    );
    return true;
  } catch (error) {
    if (!isLostRace(error)) throw error;
    return false;
  }
}
