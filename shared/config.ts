// Configuration comes from the environment, is validated once (at cold start in Lambda, at start-up in
// the CLI) and then passed down explicitly; nothing below reads process.env.
import * as z from 'zod';
import { describeZodError } from './errors';
import { LEASE_TTL_MS } from './jobs/lease';
import { DEFAULT_PROGRAM_START } from './promotion/window';
import { calendarDateSchema } from './time';

const configSchema = z.object({
  TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name')
    .default('promo-jobs'),
  PROGRAM_START: calendarDateSchema.default(DEFAULT_PROGRAM_START),
  DYNAMODB_ENDPOINT: z.url().optional(),
  /** The CLI's target: the embedded/local DynamoDB (default), or the deployed table in AWS. */
  PROMO_JOBS_TARGET: z.enum(['local', 'aws'], { message: 'must be local or aws' }).default('local'),
  WRITE_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  QUERY_PAGE_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** A Lambda job stops reading new work when less than this is left, and continues in a new invocation. */
  JOB_STOP_MARGIN_MS: z.coerce.number().int().min(0).max(600_000).default(60_000),
  /** How long a job's lease lasts without a heartbeat: a killed run's job is free again this long after. */
  LEASE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(3)
    .max(900)
    .default(LEASE_TTL_MS / 1000),
  SNS_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be an SNS topic ARN')
    .optional(),
});

export interface AppConfig {
  tableName: string;
  programStart: string;
  dynamodbEndpoint: string | undefined;
  target: 'local' | 'aws';
  writeConcurrency: number;
  pageSize: number;
  snsTopicArn: string | undefined;
  stopMarginMs: number;
  leaseTtlMs: number;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const result = configSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!result.success) throw new Error(`invalid configuration: ${describeZodError(result.error)}`);
  const c = result.data;
  if (c.PROMO_JOBS_TARGET === 'aws' && c.DYNAMODB_ENDPOINT) {
    throw new Error(
      'invalid configuration: DYNAMODB_ENDPOINT: not with PROMO_JOBS_TARGET=aws (the deployed table)',
    );
  }
  return {
    tableName: c.TABLE_NAME,
    programStart: c.PROGRAM_START,
    dynamodbEndpoint: c.DYNAMODB_ENDPOINT,
    target: c.PROMO_JOBS_TARGET,
    writeConcurrency: c.WRITE_CONCURRENCY,
    pageSize: c.QUERY_PAGE_SIZE,
    snsTopicArn: c.SNS_TOPIC_ARN,
    stopMarginMs: c.JOB_STOP_MARGIN_MS,
    leaseTtlMs: c.LEASE_TTL_SECONDS * 1000,
  };
}

/** The topic notices go to; functions that publish cannot start without it. */
export function requireTopicArn(config: AppConfig): string {
  if (!config.snsTopicArn) throw new Error('invalid configuration: SNS_TOPIC_ARN: is required');
  return config.snsTopicArn;
}
