// One run of a job at a time: a lease item per job (`JOB#<job>` / `LEASE`). An invocation that finds
// the lease held by another live run refuses to start (in Lambda, its asynchronous retries try again
// later, then its failure queue raises an alarm; an operator simply tries again); a lease left by a
// crashed run expires after its time to live. Leases are about real
// time, so they use the wall clock, never the run's asOf.
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import type { Deps } from '../deps';
import { jobPk } from '../store/keys';
import { formatInstant } from '../time';

export const LEASE_SK = 'LEASE';
/** Longer than any Lambda invocation (15 min), so a live run never loses its lease between renewals. */
export const DEFAULT_LEASE_TTL_MS = 16 * 60 * 1000;

export class LeaseHeldError extends Error {
  override name = 'LeaseHeldError';
}

export interface Lease {
  owner: string;
  /** Extends the lease; throws LeaseHeldError if another run has taken it over (ours had expired). */
  renew(): Promise<void>;
  release(): Promise<void>;
}

export async function acquireLease(
  deps: Deps,
  job: string,
  options: { ttlMs?: number; owner?: string; asOf?: string } = {},
): Promise<Lease> {
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const owner = options.owner ?? randomUUID();
  const key = { pk: jobPk(job), sk: LEASE_SK };
  const put = async () => {
    const now = deps.clock();
    try {
      await deps.db.send(
        new PutCommand({
          TableName: deps.tableName,
          Item: {
            ...key,
            type: 'JOB_LEASE',
            owner,
            asOf: options.asOf,
            acquiredAt: formatInstant(now),
            expiresAtMs: now.toMillis() + ttlMs,
            // DynamoDB TTL (seconds) tidies up leases nobody released; correctness never relies on it.
            ttl: Math.ceil((now.toMillis() + ttlMs) / 1000) + 3600,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now.toMillis(), ':owner': owner },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = error.Item?.owner?.S ?? 'another run';
      const until = formatInstant(DateTime.fromMillis(Number(error.Item?.expiresAtMs?.N ?? 0)));
      throw new LeaseHeldError(
        `job ${job} is already running (lease held by ${holder} until ${until}); try again later`,
      );
    }
  };
  await put();
  return {
    owner,
    renew: put,
    release: async () => {
      try {
        await deps.db.send(
          new DeleteCommand({
            TableName: deps.tableName,
            Key: key,
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error; // already taken over: nothing to release
      }
    },
  };
}
