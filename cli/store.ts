// Where the CLI keeps its state: the DynamoDB named by DYNAMODB_ENDPOINT, or the home's own DynamoDB
// Local (one per PROMO_JOBS_HOME, started by the first command that needs it and kept running between
// commands: cli/local/local-server.ts), with its data under the home so state persists; or, with
// PROMO_JOBS_TARGET=aws (`--aws`), the deployed table through the standard AWS credential chain.
//
// Commands may run at once on one home. What they share is each protected on its own: one JVM per
// home (the server lock), the table's creation and new indexes (table.lock), one deliverer of the
// stream's notices per home (delivery.lock: the checkpoint and the sink), and one run of a job at a
// time (the job's lease in the table, as in AWS). See docs/decisions.md.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import type { AppConfig } from '../shared/config';
import { createDeps, type Deps, type Log } from '../shared/deps';
import { InputError } from '../shared/errors';
import { notifyFromStream } from '../shared/notices/notifier';
import { fileSink, snsPublisher } from '../shared/notices/publisher';
import { createDynamoClients } from '../shared/store/client';
import { DEFAULT_IDLE_SECONDS, ensureLocalServer, touchUsed } from './local/local-server';
import { acquireLock, type HeldLock } from './local/lock-file';
import { createStreamReader, type DrainResult, localStreamsClient } from './local/stream-reader';
import { ensureTable, tableIsUpToDate } from './local/table';

/**
 * A command's session with the table: what it works with (`deps`), the delivery of the notices it
 * causes, and the close (the home's DynamoDB Local keeps running for the next command).
 */
export interface Store {
  deps: Deps;
  target: 'local' | 'aws';
  /** Where the table is, for people: an endpoint, or the table in AWS. */
  endpoint: string;
  home: string;
  /**
   * Publishes the notices that the table's stream holds beyond the local checkpoint (what this and
   * any interrupted earlier command wrote), as the deployed notifier would.
   */
  deliverNotices(): Promise<Delivery>;
  close(): Promise<void>;
}

export interface Delivery extends DrainResult {
  /** Notices published, by type. */
  notices: Record<string, number>;
  /** Promotion notices published, by program and type. */
  noticesByProgram: Record<string, Record<string, number>>;
}

export const noticeSinkPath = (home: string) => join(home, 'notices.jsonl');

export function homeDirectory(env: Record<string, string | undefined>): string {
  return resolve(env.PROMO_JOBS_HOME || '.promo-jobs');
}

/**
 * The deployed table, as an operator's workstation sees it (AWS_PROFILE / AWS_REGION / the usual
 * credential chain). Nothing is created, and notices are left to the deployed notifier, which
 * consumes the table's stream.
 */
/**
 * Refuses, before any call, an AWS client that has no Region (the standard chain found none), saying
 * how to give one; `release` frees what was created for the command.
 */
export async function requireRegion(
  client: { config: { region: () => Promise<string> } },
  release: () => void,
): Promise<void> {
  try {
    await client.config.region();
  } catch {
    release();
    throw new InputError(
      '--aws: no AWS Region: set AWS_REGION (e.g. AWS_REGION=ap-east-1), or AWS_PROFILE to a profile with a region in ~/.aws/config',
    );
  }
}

async function openAwsStore(config: AppConfig, home: string, log: Log): Promise<Store> {
  const clients = createDynamoClients(undefined);
  await requireRegion(clients.raw, () => clients.raw.destroy());
  return {
    deps: createDeps(config, clients.doc, log),
    target: 'aws',
    endpoint: `table ${config.tableName} in AWS`,
    home,
    deliverNotices: async () => ({ records: 0, batches: 0, notices: {}, noticesByProgram: {} }),
    close: async () => clients.raw.destroy(),
  };
}

export interface StoreOptions {
  /** How long the home's DynamoDB Local, if this command starts it, waits unused before it stops. */
  idleSeconds?: number;
}

export async function openStore(
  config: AppConfig,
  home: string,
  log: Log,
  options: StoreOptions = {},
): Promise<Store> {
  if (config.target === 'aws') return openAwsStore(config, home, log);
  mkdirSync(home, { recursive: true });
  let endpoint = config.dynamodbEndpoint;
  let heartbeat: NodeJS.Timeout | undefined;
  if (!endpoint) {
    const idleSeconds = options.idleSeconds ?? DEFAULT_IDLE_SECONDS;
    endpoint = (await ensureLocalServer(home, { log, idleSeconds })).endpoint;
    // While this command runs, its server is in use (a long backfill outlasts any idle timeout).
    heartbeat = setInterval(() => touchUsed(home), Math.min(60_000, (idleSeconds * 1000) / 3));
    heartbeat.unref();
  }
  const clients = createDynamoClients(endpoint);
  if (!(await tableIsUpToDate(clients.raw, config.tableName))) {
    // Two commands creating the table (or adding an index) at once would both try: one at a time.
    const creating = await acquireLock(join(home, 'table.lock'), {
      doing: `creating the table ${config.tableName}`,
      log,
    });
    try {
      await ensureTable(clients.raw, config.tableName);
    } finally {
      creating.release();
    }
  }
  const streams = localStreamsClient(endpoint, 8);
  const sns = config.snsTopicArn ? new SNSClient({}) : undefined;
  const publisher =
    sns && config.snsTopicArn ? snsPublisher(sns, config.snsTopicArn, log) : fileSink(noticeSinkPath(home));
  let notices: Record<string, number> = {};
  let noticesByProgram: Record<string, Record<string, number>> = {};
  let delivering: HeldLock | undefined;
  let toldWaiting = false; // one waiting line per command, however many deliveries it makes
  const reader = createStreamReader({
    dynamodb: clients.raw,
    streams,
    tableName: config.tableName,
    checkpointPath: join(home, `stream-checkpoint.${config.tableName}.json`),
    handle: async (records) => {
      delivering?.touch(); // still ours (or stop before publishing), and a sign of progress to waiters
      const notified = await notifyFromStream(records, publisher, log);
      for (const [type, n] of Object.entries(notified.byType)) notices[type] = (notices[type] ?? 0) + n;
      for (const [programId, byType] of Object.entries(notified.byProgram)) {
        noticesByProgram[programId] ??= {};
        const ofProgram = noticesByProgram[programId];
        for (const [type, n] of Object.entries(byType)) ofProgram[type] = (ofProgram[type] ?? 0) + n;
      }
      return notified;
    },
    log,
  });
  const deps = createDeps(config, clients.doc, log);
  return {
    deps,
    target: 'local',
    endpoint,
    home,
    deliverNotices: async () => {
      // One deliverer per home at a time: two readers from one checkpoint would publish the same records.
      delivering = await acquireLock(join(home, 'delivery.lock'), {
        doing: `delivering the notices of ${home}`,
        log,
        onWait: (line) => {
          if (!toldWaiting) log.warn(line);
          toldWaiting = true;
        },
      });
      try {
        notices = {};
        noticesByProgram = {};
        const total: DrainResult = { records: 0, batches: 0 };
        // Until a drain finds nothing: a reader stops at a short page to batch what comes next.
        for (;;) {
          const { records, batches } = await reader.drain();
          total.records += records;
          total.batches += batches;
          if (records === 0) return { ...total, notices, noticesByProgram };
        }
      } finally {
        delivering.release();
        delivering = undefined;
      }
    },
    close: async () => {
      clients.raw.destroy();
      streams.destroy();
      sns?.destroy();
      if (heartbeat) {
        clearInterval(heartbeat);
        touchUsed(home); // the idle timeout counts from the end of the last command
      }
    },
  };
}
