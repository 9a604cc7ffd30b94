// Where and how one stage is deployed. Each setting comes from CDK context (`-c stage=prod`), else
// from the environment, else a safe default, so `npx cdk synth` works offline with no AWS account
// (the stack is then environment-agnostic).
import type { Node } from 'constructs';
import { z } from 'zod';
import { describeZodError } from '../shared/errors';
import { JOB_NAMES, type JobName } from '../shared/jobs/registry';
import { DEFAULT_PROGRAM_START } from '../shared/promotion/window';
import { calendarDateSchema } from '../shared/time';
import { stagePrefix } from './job-deployment';

export interface StageConfig {
  stage: string;
  account: string | undefined;
  region: string | undefined;
  /** `promo-jobs-<stage>`: the prefix of every physical name, so an operator can guess them. */
  prefix: string;
  tableName: string;
  noticesTopicName: string;
  /** Operators' e-mail for alarms; without it the alarm topic has no subscription. */
  alarmEmail: string | undefined;
  programStart: string;
  /** Jobs whose schedule is deployed DISABLED. */
  pausedJobs: JobName[];
  /**
   * The IAM roles that may put events on the merchant bus (ARNs, any account). Undefined: only this
   * account's role `<prefix>-merchant-producer` (merchantProducerRoleName).
   */
  merchantProducers: string[] | undefined;
}

/** The producer role a stage allows by default: `<prefix>-merchant-producer` in the stack's account. */
export const merchantProducerRoleName = (prefix: string) => `${prefix}-merchant-producer`;

/** context key → environment variable. */
const STAGE_SETTINGS = {
  stage: 'PROMO_JOBS_STAGE',
  account: 'CDK_DEFAULT_ACCOUNT',
  region: 'CDK_DEFAULT_REGION',
  tableName: 'PROMO_JOBS_TABLE_NAME',
  topicName: 'PROMO_JOBS_TOPIC_NAME',
  alarmEmail: 'PROMO_JOBS_ALARM_EMAIL',
  programStart: 'PROMO_JOBS_PROGRAM_START',
  paused: 'PROMO_JOBS_PAUSED',
  merchantProducers: 'PROMO_JOBS_MERCHANT_PRODUCERS',
} as const;
type Setting = keyof typeof STAGE_SETTINGS;

const nameSchema = (what: string) =>
  z.string().regex(/^[A-Za-z0-9_.-]{3,200}$/, `must be a ${what} name (letters, digits, _ . -)`);

/** Comma-separated text → its trimmed, non-empty parts. */
const commaList = z.string().transform((text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** An IAM role ARN (with its path, if any): what `aws:PrincipalArn` is for a session of that role. */
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

const settingsSchema = z.strictObject({
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be 1-20 lower-case letters, digits or "-", starting with a letter')
    .default('dev'),
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as ap-east-1')
    .optional(),
  tableName: nameSchema('DynamoDB table').optional(),
  topicName: nameSchema('SNS topic').optional(),
  alarmEmail: z.email('must be an e-mail address').optional(),
  programStart: calendarDateSchema.default(DEFAULT_PROGRAM_START),
  paused: commaList
    .pipe(
      z.array(
        z.enum(JOB_NAMES as [JobName, ...JobName[]], {
          message: `must list jobs of ${JOB_NAMES.join(', ')}`,
        }),
      ),
    )
    .default([]),
  merchantProducers: commaList
    .pipe(
      z
        .array(z.string().regex(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)'))
        .min(1, 'must list at least one IAM role ARN'),
    )
    .optional(),
});

/** Settings that cannot make a stage: the app prints the message alone (no stack trace) and exits 1. */
export class StageSettingsError extends Error {
  override name = 'StageSettingsError';
}

/** Reads the stage from a construct tree's context and an environment. Throws naming the setting. */
export function resolveStage(node: Node, env: Record<string, string | undefined> = process.env): StageConfig {
  const raw: Partial<Record<Setting, string>> = {};
  for (const [key, envName] of Object.entries(STAGE_SETTINGS) as [Setting, string][]) {
    const value = node.tryGetContext(key) ?? env[envName];
    if (value !== undefined && value !== '') raw[key] = String(value);
  }
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    throw new StageSettingsError(`invalid stage settings: ${describeZodError(result.error)}`);
  }
  const s = result.data;
  const prefix = stagePrefix(s.stage);
  return {
    stage: s.stage,
    account: s.account,
    region: s.region,
    prefix,
    tableName: s.tableName ?? prefix,
    noticesTopicName: s.topicName ?? `${prefix}-notices`,
    alarmEmail: s.alarmEmail,
    programStart: s.programStart,
    pausedJobs: s.paused,
    merchantProducers: s.merchantProducers,
  };
}
