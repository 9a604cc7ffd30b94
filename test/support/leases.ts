// Job leases as a dead holder leaves them, and a table client that records what a run sends.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import type { Deps } from '../../shared/deps';
import { JOB_LEASE_TYPE, jobPk, LEASE_SK } from '../../shared/store/keys';
import { formatInstant } from '../../shared/time';
import type { TestDb } from './dynamo';

/** Writes a lease item exactly as a run that was killed after its last heartbeat leaves it. */
export async function leaveLease(
  db: TestDb,
  job: string,
  holder: { owner: string; heartbeatAtMs: number; expiresAtMs: number; tableName?: string },
): Promise<void> {
  const heartbeatAt = formatInstant(DateTime.fromMillis(holder.heartbeatAtMs));
  await db.clients.doc.send(
    new PutCommand({
      TableName: holder.tableName ?? db.deps().tableName,
      Item: {
        pk: jobPk(job),
        sk: LEASE_SK,
        type: JOB_LEASE_TYPE,
        job,
        owner: holder.owner,
        acquiredAt: heartbeatAt,
        heartbeatAt,
        expiresAtMs: holder.expiresAtMs,
        ttl: Math.ceil(holder.expiresAtMs / 1000) + 3600,
      },
    }),
  );
}

export interface SentCommand {
  name: string;
  key: string;
  /** For a conditional write that failed: the exception's name. */
  error?: string;
}

/** The deps' table client, recording every command it sends, in order (with its key, if any). */
export function recordingDeps(deps: Deps): { deps: Deps; sent: SentCommand[] } {
  const sent: SentCommand[] = [];
  const db = new Proxy(deps.db, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const input = command.input as { Key?: { sk?: string }; Item?: { sk?: string } };
        const entry: SentCommand = {
          name: command.constructor.name,
          key: String(input.Key?.sk ?? input.Item?.sk ?? ''),
        };
        sent.push(entry);
        try {
          return await (target.send as (c: unknown) => Promise<unknown>)(command);
        } catch (error) {
          entry.error = (error as Error).name;
          throw error;
        }
      };
    },
  });
  return { deps: { ...deps, db }, sent };
}

export const WRITES = [
  'PutCommand',
  'UpdateCommand',
  'DeleteCommand',
  'BatchWriteCommand',
  'TransactWriteCommand',
];
