// Where and how one stage is deployed. The stage (`-c stage=prod`, default `dev`) names its settings
// file, infra/stages/<stage>.json; a setting given as CDK context (`-c key=value`) overrides the
// file's, and the environment fills in what neither gives, else a safe default — so `npx cdk synth`
// works offline with no AWS account (the stack is then environment-agnostic).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Node } from 'constructs';
import * as z from 'zod';
import { describeZodError } from '../shared/errors';
import { JOB_NAMES, type JobName } from '../shared/jobs/registry';
import { NOTICE_TYPES } from '../shared/notices/notice';
import type { NoticeAttribute } from '../shared/notices/publisher';
import { programIdSchema } from '../shared/programs/program';
import { DEFAULT_PROGRAM_START } from '../shared/promotion/window';
import { merchantIdSchema } from '../shared/store/keys';
import { calendarDateSchema } from '../shared/time';
import { stagePrefix } from './job-deployment';

/** Where the stage files are unless `stagesDir` says otherwise: infra/stages, wherever the cwd is. */
export const DEFAULT_STAGES_DIR = join(import.meta.dirname, 'stages');

export interface StageConfig {
  stage: string;
  /** The settings file the stage was read from, as the messages show it (relative to the cwd, if under it). */
  stageFile: string;
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
  /** Subscriptions to the notices topic this stack owns (docs/infrastructure.md, "Notifier"). */
  subscriptions: NoticeSubscription[];
  /** Accounts whose principals may subscribe to the notices topic themselves (topic policy). */
  subscriberAccounts: string[];
}

/** The producer role a stage allows by default: `<prefix>-merchant-producer` in the stack's account. */
export const merchantProducerRoleName = (prefix: string) => `${prefix}-merchant-producer`;

const ACCOUNT_ID = /^\d{12}$/;
const REGION = '[a-z]{2}(-[a-z]+)+-\\d';
const PARTITION = 'arn:aws(-[a-z]+)*';

const accountSchema = z.string().regex(ACCOUNT_ID, 'must be a 12-digit AWS account id');

const nameSchema = (what: string) =>
  z.string().regex(/^[A-Za-z0-9_.-]{3,200}$/, `must be a ${what} name (letters, digits, _ . -)`);

/** An IAM role ARN (with its path, if any): what `aws:PrincipalArn` is for a session of that role. */
const ROLE_ARN = new RegExp(`^${PARTITION}:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$`);

/** A list without repeats, in the order given. */
const unique = <T>(values: T[]) => [...new Set(values)];

/**
 * A filter policy on the notices' message attributes (shared/notices/publisher.ts): each attribute
 * it names lists the values a message must have one of. Only the attributes the publisher sets.
 */
const filterPolicySchema = z
  .strictObject({
    type: z
      .array(z.enum(NOTICE_TYPES, { message: `must list notice types of ${NOTICE_TYPES.join(', ')}` }))
      .min(1, 'must list at least one notice type')
      .transform(unique),
    merchantId: z.array(merchantIdSchema).min(1, 'must list at least one merchant id').transform(unique),
    programId: z.array(programIdSchema).min(1, 'must list at least one program id').transform(unique),
  } satisfies Record<NoticeAttribute, z.ZodType>)
  .partial()
  // Whole-policy checks only on a policy whose fields are right (an unknown one is reported alone).
  .refine((policy) => Object.keys(policy).length > 0, {
    message: 'must name at least one of type, merchantId, programId',
    when: (payload) => payload.issues.length === 0,
  })
  .refine(
    // SNS's limit: the product of the numbers of values must stay ≤ 150.
    (policy) => Object.values(policy).reduce((n, values) => n * values.length, 1) <= 150,
    {
      message: 'allows at most 150 combinations of values (an SNS limit: the product of the lists’ lengths)',
      when: (payload) => payload.issues.length === 0,
    },
  );

/** An endpoint of one protocol; the subscription needs it confirmed or permitted by its owner. */
const subscription = <P extends string>(protocol: P, endpoint: z.ZodType<string>) =>
  z.strictObject({
    protocol: z.literal(protocol),
    endpoint,
    filterPolicy: filterPolicySchema.optional(),
  });

/** The protocols a stage file may subscribe with (no plain http: notices name merchants). */
export const SUBSCRIPTION_PROTOCOLS = ['https', 'email', 'email-json', 'sms', 'sqs', 'lambda'] as const;

const subscriptionSchema = z.discriminatedUnion(
  'protocol',
  [
    subscription('https', z.url({ protocol: /^https$/, message: 'must be an https:// URL' })),
    subscription('email', z.email('must be an e-mail address')),
    subscription('email-json', z.email('must be an e-mail address')),
    subscription(
      'sms',
      z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be a phone number in E.164 form, such as +8613800138000'),
    ),
    subscription(
      'sqs',
      z
        .string()
        .regex(
          new RegExp(`^${PARTITION}:sqs:${REGION}:\\d{12}:[A-Za-z0-9_-]{1,80}(\\.fifo)?$`),
          'must be an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)',
        )
        .refine((arn) => !arn.endsWith('.fifo'), 'must be a standard queue: the notices topic is not FIFO'),
    ),
    subscription(
      'lambda',
      z
        .string()
        .regex(
          new RegExp(
            `^${PARTITION}:lambda:${REGION}:\\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$`,
          ),
          'must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)',
        ),
    ),
  ],
  { error: () => `must be one of ${SUBSCRIPTION_PROTOCOLS.join(', ')}` },
);

export type NoticeSubscription = z.output<typeof subscriptionSchema>;

const subscriptionsSchema = z.array(subscriptionSchema).superRefine((subscriptions, ctx) => {
  // SNS keeps one subscription per protocol and endpoint: a second would be refused at deploy.
  const seen = new Map<string, number>();
  subscriptions.forEach(({ protocol, endpoint }, i) => {
    const key = `${protocol} ${endpoint}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        message: `repeats subscriptions.${first}'s protocol and endpoint (one subscription per endpoint: merge their filter policies)`,
      });
    }
  });
});

/** Every setting a stage file or an override may give, in its JSON form. */
const settingFields = {
  account: accountSchema,
  region: z.string().regex(new RegExp(`^${REGION}$`), 'must be an AWS region such as ap-east-1'),
  tableName: nameSchema('DynamoDB table'),
  topicName: nameSchema('SNS topic'),
  alarmEmail: z.email('must be an e-mail address'),
  programStart: calendarDateSchema,
  paused: z
    .array(
      z.enum(JOB_NAMES as [JobName, ...JobName[]], { message: `must list jobs of ${JOB_NAMES.join(', ')}` }),
    )
    .transform(unique),
  merchantProducers: z
    .array(z.string().regex(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)'))
    .min(1, 'must list at least one IAM role ARN'),
  subscriberAccounts: z.array(accountSchema).transform(unique),
  subscriptions: subscriptionsSchema,
};
type Field = keyof typeof settingFields;

const settingsSchema = z.strictObject(settingFields).partial();
/** A stage file: any of the settings, and a `$comment` for the people who read it. */
const stageFileSchema = settingsSchema.extend({ $comment: z.string().optional() });

/** Settings given as text (`-c key=value`, the environment): lists comma-separated, subscriptions as JSON. */
const TEXT_FORM: Partial<Record<Field, 'list' | 'json'>> = {
  paused: 'list',
  merchantProducers: 'list',
  subscriberAccounts: 'list',
  subscriptions: 'json',
};

/** context key → environment variable (the fallback for what neither context nor the file gives). */
const ENVIRONMENT: Record<Field | 'stage' | 'stagesDir', string> = {
  stage: 'PROMO_JOBS_STAGE',
  stagesDir: 'PROMO_JOBS_STAGES_DIR',
  account: 'CDK_DEFAULT_ACCOUNT',
  region: 'CDK_DEFAULT_REGION',
  tableName: 'PROMO_JOBS_TABLE_NAME',
  topicName: 'PROMO_JOBS_TOPIC_NAME',
  alarmEmail: 'PROMO_JOBS_ALARM_EMAIL',
  programStart: 'PROMO_JOBS_PROGRAM_START',
  paused: 'PROMO_JOBS_PAUSED',
  merchantProducers: 'PROMO_JOBS_MERCHANT_PRODUCERS',
  subscriberAccounts: 'PROMO_JOBS_SUBSCRIBER_ACCOUNTS',
  subscriptions: 'PROMO_JOBS_SUBSCRIPTIONS',
};

const stageSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be 1-20 lower-case letters, digits or "-", starting with a letter');

/** Settings that cannot make a stage: the app prints the message alone (no stack trace) and exits 1. */
export class StageSettingsError extends Error {
  override name = 'StageSettingsError';
}

type Env = Record<string, string | undefined>;

/** A value given at all: absent and empty text both mean "not given". */
const given = (value: unknown) => value !== undefined && value !== null && value !== '';

/** One source's values (context or environment) in their JSON form, text parsed per TEXT_FORM. */
function fromSource(read: (field: Field) => unknown): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const field of Object.keys(settingFields) as Field[]) {
    const value = read(field);
    if (!given(value)) continue;
    // cdk.json or CDK_CONTEXT_JSON may hold JSON values already; `-c` and the environment give text.
    if (typeof value !== 'string') raw[field] = value;
    else if (TEXT_FORM[field] === 'list') {
      raw[field] = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    } else if (TEXT_FORM[field] === 'json') {
      try {
        raw[field] = JSON.parse(value);
      } catch (error) {
        throw new StageSettingsError(
          `invalid stage settings: ${field}: must be JSON (${error instanceof Error ? error.message : error})`,
        );
      }
    } else raw[field] = value;
  }
  return raw;
}

function parseOverrides(raw: Record<string, unknown>): z.output<typeof settingsSchema> {
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    throw new StageSettingsError(`invalid stage settings: ${describeZodError(result.error)}`);
  }
  return result.data;
}

/** The stage file, validated; every problem names the file and the field. */
function readStageFile(
  stage: string,
  stagesDir: string,
): { shown: string; settings: z.output<typeof settingsSchema> } {
  const path = join(stagesDir, `${stage}.json`);
  const fromCwd = relative(process.cwd(), path);
  const shown = fromCwd.startsWith('..') || isAbsolute(fromCwd) ? path : fromCwd;
  if (!existsSync(path)) {
    const stages = existsSync(stagesDir)
      ? readdirSync(stagesDir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => f.slice(0, -'.json'.length))
          .sort()
      : [];
    throw new StageSettingsError(
      `no settings for stage "${stage}": ${shown} does not exist (stages: ${stages.join(', ') || 'none'})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new StageSettingsError(
      `invalid stage file ${shown}: not JSON (${error instanceof Error ? error.message : error})`,
    );
  }
  const result = stageFileSchema.safeParse(json);
  if (!result.success) {
    throw new StageSettingsError(`invalid stage file ${shown}: ${describeZodError(result.error)}`);
  }
  const { $comment: _, ...settings } = result.data;
  return { shown, settings };
}

/** Drops the keys whose value is undefined, so a spread cannot blank out an earlier source. */
const defined = <T extends object>(values: T): Partial<T> =>
  Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Reads the stage from a construct tree's context, its stage file and an environment: context
 * first, then the file, then the environment, then defaults. Throws naming the file or the setting.
 */
export function resolveStage(node: Node, env: Env = process.env): StageConfig {
  const pick = (key: 'stage' | 'stagesDir') => {
    const value = node.tryGetContext(key) ?? env[ENVIRONMENT[key]];
    return given(value) ? String(value) : undefined;
  };
  const stageResult = stageSchema.safeParse(pick('stage') ?? 'dev');
  if (!stageResult.success) {
    throw new StageSettingsError(`invalid stage settings: ${describeZodError(stageResult.error, 'stage')}`);
  }
  const stage = stageResult.data;
  const dir = pick('stagesDir');
  const stagesDir = dir === undefined ? DEFAULT_STAGES_DIR : isAbsolute(dir) ? dir : resolve(dir);

  const fromContext = parseOverrides(fromSource((field) => node.tryGetContext(field)));
  const fromEnvironment = parseOverrides(fromSource((field) => env[ENVIRONMENT[field]]));
  const file = readStageFile(stage, stagesDir);
  const s = { ...defined(fromEnvironment), ...defined(file.settings), ...defined(fromContext) };

  const prefix = stagePrefix(stage);
  return {
    stage,
    stageFile: file.shown,
    account: s.account,
    region: s.region,
    prefix,
    tableName: s.tableName ?? prefix,
    noticesTopicName: s.topicName ?? `${prefix}-notices`,
    alarmEmail: s.alarmEmail,
    programStart: s.programStart ?? DEFAULT_PROGRAM_START,
    pausedJobs: s.paused ?? [],
    merchantProducers: s.merchantProducers,
    subscriptions: s.subscriptions ?? [],
    subscriberAccounts: s.subscriberAccounts ?? [],
  };
}
