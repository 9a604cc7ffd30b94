// A real DynamoDB Local per test file (started by the tests themselves), one table, cleared between tests.
import { BatchWriteCommand, type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DateTime } from 'luxon';
import { afterAll, beforeAll } from 'vitest';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../cli/local/dynamodb-local';
import {
  createStreamReader,
  type DrainResult,
  localStreamsClient,
  type StreamReader,
  type StreamReaderOptions,
} from '../../cli/local/stream-reader';
import { ensureTable } from '../../cli/local/table';
import { type Deps, silentLog } from '../../shared/deps';
import { createDynamoClients, type DynamoClients } from '../../shared/store/client';
import { parseInstant } from '../../shared/time';

export const TEST_TABLE = 'promo-jobs-test';
/** The wall clock the tests pretend it is; processedAt stamps come from it. */
export const TEST_NOW = '2026-11-25T10:00:00.000+08:00';

export interface TestDb {
  endpoint: string;
  clients: DynamoClients;
  deps(overrides?: Partial<Deps>): Deps;
  /** Every item in the table (tests may Scan; jobs never do). */
  scanAll(): Promise<Record<string, unknown>[]>;
  reset(): Promise<void>;
  /** Reads the table's stream from the checkpoint at `checkpointPath`, as the local stream reader does. */
  drainStream(checkpointPath: string, handle: StreamReaderOptions['handle']): Promise<DrainResult>;
  /** A stream reader that keeps its place between drains, as the CLI's does. */
  streamReader(checkpointPath: string, handle: StreamReaderOptions['handle']): StreamReader;
}

/** Every item of a table, page by page (tests and reports may Scan; jobs never do). */
export async function scanTable(
  doc: DynamoDBDocumentClient,
  table: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Deletes every item of a table (cheaper than a new table: each new stream table in one DynamoDB Local is slower than the last). */
export async function clearTable(doc: DynamoDBDocumentClient, table: string): Promise<void> {
  const items = await scanTable(doc, table);
  for (let i = 0; i < items.length; i += 25) {
    let requests: Record<string, unknown>[] = items
      .slice(i, i + 25)
      .map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }));
    while (requests.length > 0) {
      const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
      requests = (result.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
    }
  }
}

export function useLocalDynamo(): TestDb {
  let local: DynamoDbLocal | undefined;
  let clients: DynamoClients | undefined;
  const need = () => {
    if (!local || !clients) throw new Error('DynamoDB Local is not started yet (use it inside tests)');
    return { local, clients };
  };
  beforeAll(async () => {
    local = await startDynamoDbLocal();
    clients = createDynamoClients(local.endpoint);
    await ensureTable(clients.raw, TEST_TABLE);
  });
  afterAll(async () => {
    clients?.raw.destroy();
    await local?.stop();
  });
  const db: TestDb = {
    get endpoint() {
      return need().local.endpoint;
    },
    get clients() {
      return need().clients;
    },
    deps: (overrides = {}) => ({
      db: need().clients.doc,
      tableName: TEST_TABLE,
      clock: () => parseInstant(TEST_NOW),
      programStart: '2020-05-01',
      writeConcurrency: 16,
      pageSize: 500,
      log: silentLog,
      ...overrides,
    }),
    async scanAll() {
      const items = await scanTable(need().clients.doc, TEST_TABLE);
      return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
    },
    reset: () => clearTable(need().clients.doc, TEST_TABLE),
    drainStream: (checkpointPath, handle) => db.streamReader(checkpointPath, handle).drain(),
    streamReader: (checkpointPath, handle) =>
      createStreamReader({
        dynamodb: need().clients.raw,
        streams: localStreamsClient(need().local.endpoint),
        tableName: TEST_TABLE,
        checkpointPath,
        handle,
        log: silentLog,
      }),
  };
  return db;
}

/** A document client whose every request goes through `around` (to fail, delay or count it). */
export function interceptSend(
  doc: DynamoDBDocumentClient,
  around: (command: unknown, send: () => Promise<unknown>) => Promise<unknown>,
): DynamoDBDocumentClient {
  const wrapped = Object.create(doc) as DynamoDBDocumentClient;
  wrapped.send = ((command: never) => around(command, () => doc.send(command))) as never;
  return wrapped;
}

/** A clock that advances by a millisecond on every reading, so processedAt stamps are distinct and ordered. */
export function steppingClock(start = TEST_NOW): () => DateTime {
  let at = parseInstant(start);
  return () => {
    at = at.plus({ milliseconds: 1 });
    return at;
  };
}
