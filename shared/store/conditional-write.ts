// One way to write "change this item if this condition holds" (a put, an update, or several at once),
// one builder for update expressions, and one way to recognise that a conditional write lost
// (someone else wrote first).
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Deps } from '../deps';
import { attempts, RetriesExhaustedError, type RetryPolicy } from '../retry';
import type { ItemKey } from './keys';

export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** The item does not exist yet. */
export const IS_NEW: Condition = { expression: 'attribute_not_exists(pk)' };

/** The item is still at the version it was read at. */
export const atVersion = (version: number): Condition => ({
  expression: '#c_version = :c_version',
  names: { '#c_version': 'version' },
  values: { ':c_version': version },
});

/** What an UpdateItem changes; fields whose value is undefined are left as they are. */
export interface Update {
  set?: object;
  /** Lists appended to (an absent list is taken as empty). */
  append?: Record<string, unknown[]>;
  /** Fields set only where the item has none yet. */
  setIfMissing?: Record<string, unknown>;
  /** Numbers added to (an absent number is taken as 0). */
  add?: Record<string, number>;
  remove?: string[];
}

const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The UpdateItem expression and placeholders of an update, and of its condition. */
export function updateExpression(update: Update, condition?: Condition) {
  const names: Record<string, string> = { ...condition?.names };
  const values: Record<string, unknown> = { ...condition?.values };
  const placeholder = (name: string) => {
    if (!ATTRIBUTE_NAME.test(name)) throw new Error(`not an attribute name for an update: ${name}`);
    names[`#u_${name}`] = name;
    return `#u_${name}`;
  };
  const value = (name: string, v: unknown) => {
    values[`:u_${name}`] = v;
    return `:u_${name}`;
  };
  const set: string[] = [];
  for (const [name, v] of Object.entries(update.set ?? {})) {
    if (v !== undefined) set.push(`${placeholder(name)} = ${value(name, v)}`);
  }
  for (const [name, v] of Object.entries(update.setIfMissing ?? {})) {
    const field = placeholder(name);
    set.push(`${field} = if_not_exists(${field}, ${value(name, v)})`);
  }
  const append = Object.entries(update.append ?? {});
  if (append.length > 0) values[':u_empty_list'] = [];
  for (const [name, list] of append) {
    const field = placeholder(name);
    set.push(`${field} = list_append(if_not_exists(${field}, :u_empty_list), ${value(name, list)})`);
  }
  const add = Object.entries(update.add ?? {}).map(([name, n]) => `${placeholder(name)} ${value(name, n)}`);
  const remove = (update.remove ?? []).map(placeholder);
  const clauses = [
    set.length > 0 ? `SET ${set.join(', ')}` : '',
    add.length > 0 ? `ADD ${add.join(', ')}` : '',
    remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
  ].filter(Boolean);
  if (clauses.length === 0) throw new Error('an update must change something');
  return {
    UpdateExpression: clauses.join(' '),
    ...(condition ? { ConditionExpression: condition.expression } : {}),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

/** One conditional write: a whole item put, or an update of the item at a key. */
export type ConditionalWrite =
  | { put: Record<string, unknown>; condition: Condition }
  | { key: ItemKey; update: Update; condition: Condition };
/** In a transaction (writeAllIf), a condition on an item it does not write. */
export type ConditionCheck = { check: ItemKey; condition: Condition };

export type WriteOutcome =
  | { written: true }
  /** `current`: the item as it is now (from the failed condition, no extra read), if there is one. */
  | { written: false; current: Record<string, unknown> | undefined };

function request(deps: Deps, write: ConditionalWrite) {
  if ('put' in write) {
    return {
      Put: {
        TableName: deps.tableName,
        Item: write.put,
        ConditionExpression: write.condition.expression,
        ...(write.condition.names ? { ExpressionAttributeNames: write.condition.names } : {}),
        ...(write.condition.values ? { ExpressionAttributeValues: write.condition.values } : {}),
      },
    };
  }
  return {
    Update: { TableName: deps.tableName, Key: write.key, ...updateExpression(write.update, write.condition) },
  };
}

/** Writes if the condition holds; when it did not, says so with the item as it is now. */
export async function writeIf(deps: Deps, write: ConditionalWrite): Promise<WriteOutcome> {
  const { Put, Update } = request(deps, write);
  const onLoss = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;
  let conflict: unknown;
  for await (const _ of attempts(CONFLICT_RETRY)) {
    try {
      if (Put) await deps.db.send(new PutCommand({ ...Put, ...onLoss }));
      else await deps.db.send(new UpdateCommand({ ...Update, ...onLoss }));
      return { written: true };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { written: false, current: itemAfterLostRace(error) };
      }
      // A transaction in flight on the item (the recorder's) refused the write and says nothing of
      // the item: write again once it is over, and the condition decides.
      if (!isLostRace(error)) throw error;
      conflict = error;
    }
  }
  throw new RetriesExhaustedError('a write that met a transaction', CONFLICT_RETRY.attempts, conflict);
}

/** A single write that meets a transaction retries briefly: a transaction on an item lasts milliseconds. */
const CONFLICT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 20, maxDelayMs: 500 };

/** Deletes the item at `key` if the condition holds; false when it did not (changed, or already gone). */
export async function deleteIf(deps: Deps, key: ItemKey, condition: Condition): Promise<boolean> {
  try {
    await deps.db.send(
      new DeleteCommand({
        TableName: deps.tableName,
        Key: key,
        ConditionExpression: condition.expression,
        ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
        ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
}

function checkRequest(deps: Deps, { check, condition }: ConditionCheck) {
  return {
    ConditionCheck: {
      TableName: deps.tableName,
      Key: check,
      ConditionExpression: condition.expression,
      ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
      ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
    },
  };
}

/** All of the writes or none (one transaction), each condition holding; false when someone else wrote first. */
export async function writeAllIf(
  deps: Deps,
  writes: (ConditionalWrite | ConditionCheck)[],
): Promise<boolean> {
  const items = writes.map((w) => ('check' in w ? checkRequest(deps, w) : request(deps, w)));
  try {
    await deps.db.send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
}

/** Sets `fields` on the item at `key` if `condition` holds; false when it did not (someone else wrote first). */
export async function setIf(
  deps: Deps,
  key: ItemKey,
  fields: object,
  condition: Condition,
): Promise<boolean> {
  return (await writeIf(deps, { key, update: { set: fields }, condition })).written;
}

/**
 * Someone else wrote first: a failed condition (what we read is out of date), or a conflict with a
 * concurrent transaction on the same items (TransactionConflict; the SDK does not retry it). Either
 * way, reading again and retrying after a backoff settles it.
 */
export function isLostRace(error: unknown): boolean {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some(
      (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
    );
  }
  return (
    error instanceof Error &&
    (error.name === 'ConditionalCheckFailedException' || error.name === 'TransactionConflictException')
  );
}

/** The item as it is now, when a write that lost its condition asked for it (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
export function itemAfterLostRace(error: unknown): Record<string, unknown> | undefined {
  return error instanceof ConditionalCheckFailedException && error.Item ? unmarshall(error.Item) : undefined;
}
