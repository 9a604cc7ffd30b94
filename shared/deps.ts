// What the domain needs from the outside world, injected by each entry point (Lambda, CLI, tests).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import type { AppConfig } from './config';
import type { CalendarDate } from './time';

/** Structured log lines; Powertools' Logger and the CLI's stderr logger both fit. */
export interface Log {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };

export interface Deps {
  db: DynamoDBDocumentClient;
  tableName: string;
  /** The wall clock, used only to stamp `processedAt`; what a job works "as of" comes from its input. */
  clock: () => DateTime;
  programStart: CalendarDate;
  writeConcurrency: number;
  /** Items per index page a job reads before it checks its deadline and saves its place. */
  pageSize: number;
  log: Log;
}

/** The dependencies every entry point gives the domain: its configuration, a table client, a log. */
export function createDeps(config: AppConfig, db: DynamoDBDocumentClient, log: Log): Deps {
  return {
    db,
    tableName: config.tableName,
    clock: () => DateTime.now(),
    programStart: config.programStart,
    writeConcurrency: config.writeConcurrency,
    pageSize: config.pageSize,
    log,
  };
}
