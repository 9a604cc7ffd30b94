// The lease items `JOB#<job> / LEASE`: who runs a job now, and until when. What a lease means —
// heartbeat, fencing, waiting — is shared/jobs/lease.ts; here is only how the item is read and written.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { type Condition, deleteIf, writeIf } from './conditional-write';
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

async function putLease(deps: Deps, lease: LeaseFields, condition: Condition): Promise<LeaseWrite> {
  const outcome = await writeIf(deps, {
    put: {
      ...leaseKey(lease.job),
      type: JOB_LEASE_TYPE,
      ...lease,
      // DynamoDB TTL (seconds) tidies up leases nobody released; correctness never relies on it.
      ttl: Math.ceil(lease.expiresAtMs / 1000) + 3600,
    },
    condition,
  });
  if (outcome.written) return { written: true };
  return {
    written: false,
    current: outcome.current ? parseItem(leaseItemSchema, outcome.current) : undefined,
  };
}

/** The lease is this owner's (and, given `expiresAtMs`, still the one looked at). */
const heldBy = (owner: string, expiresAtMs?: number): Condition => ({
  expression: `#owner = :owner${expiresAtMs === undefined ? '' : ' AND expiresAtMs = :expiresAtMs'}`,
  names: { '#owner': 'owner' },
  values: { ':owner': owner, ...(expiresAtMs === undefined ? {} : { ':expiresAtMs': expiresAtMs }) },
});

/**
 * Writes the lease if it is free, lapsed at `nowMs`, or already this owner's (the SDK retried a put
 * whose reply was lost).
 */
export function takeLease(deps: Deps, lease: LeaseFields, nowMs: number): Promise<LeaseWrite> {
  const mine = heldBy(lease.owner);
  return putLease(deps, lease, {
    expression: `attribute_not_exists(pk) OR expiresAtMs <= :now OR (${mine.expression})`,
    names: mine.names,
    values: { ...mine.values, ':now': nowMs },
  });
}

/** Writes the lease only if it is still this owner's. */
export const renewLease = (deps: Deps, lease: LeaseFields): Promise<LeaseWrite> =>
  putLease(deps, lease, heldBy(lease.owner));

/**
 * Deletes the job's lease if it is still `owner`'s (and, given `expiresAtMs`, still the one looked
 * at); false when it was not (taken over, renewed or already gone).
 */
export const deleteLease = (deps: Deps, job: string, owner: string, expiresAtMs?: number): Promise<boolean> =>
  deleteIf(deps, leaseKey(job), heldBy(owner, expiresAtMs));
