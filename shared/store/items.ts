// What is read back from the table is checked, not trusted: one zod schema per kind of stored item
// (a discriminated union on `type`), parsed once per item read. A malformed item is an error naming
// its key and the field. Optional fields are optional because items written by older versions of the
// code lack them (a profile without occurredAt), or because the domain leaves them out until they
// apply (a promotion's reminder); everything else is required.
import * as z from 'zod';
import { describeZodError } from '../errors';
import {
  ALL_CATEGORIES,
  CART_CHANNELS,
  CART_FLAG_VALUES,
  type CartFlag,
  type CartPolicy,
  FEE_BASES,
  type FeePolicy,
  MERCHANT_POLICY_STATUSES,
  type MerchantFeePolicyNotice,
  type MerchantPolicyNotice,
  POLICY_STATUSES,
  POLICY_VALUES,
  type PolicyHistoryEntry,
} from '../policies/policy';
import {
  benefitsSchema,
  NEW_MERCHANT_FEE_ENROLMENT,
  PROGRAM_CHANGES,
  PROGRAM_STATUSES,
  type ProgramHistoryEntry,
  programSchema,
  type StoredProgram,
} from '../programs/program';
import {
  CHANGE_SOURCES,
  type HistoryEntry,
  PROMOTION_STATUSES,
  type Promotion,
  type Reminder,
} from '../promotion/lifecycle';
import type { FlagChange, StoredFlag } from './flags';
import {
  CART_FLAG_TYPE,
  CART_POLICY_TYPE,
  ENROLMENT_PROGRESS_TYPE,
  JOB_BACKFILL_TYPE,
  JOB_LEASE_TYPE,
  JOB_RUN_TYPE,
  LEASE_SK,
  MERCHANT_CART_POLICY_TYPE,
  MERCHANT_FEE_POLICY_TYPE,
  MERCHANT_TYPE,
  PROGRAM_TYPE,
  PROMOTION_TYPE,
} from './keys';
import type { MerchantProfile } from './merchants';
import type { EnrolmentProgress } from './programs';

/** A stored item that does not have the shape its kind must have (a bug, or a hand edit of the table). */
export class MalformedItemError extends Error {
  override name = 'MalformedItemError';
}

// Instants are stored as formatInstant writes them (docs/decisions.md, "Time"); they sort as text.
const instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/,
    'must be a stored instant (yyyy-MM-ddTHH:mm:ss.SSS+08:00)',
  );
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date yyyy-MM-dd');
const version = z.number().int().positive();
const text = z.string();

/** The key attributes every stored item carries; the domain records read back leave them out. */
const keyFields = { pk: text, sk: text };
const dueKeyFields = { due_pk: text.optional(), due_sk: instant.optional() };
const audienceKeyFields = { aud_pk: text.optional(), aud_sk: text.optional() };
// Absent on profiles recorded before the index existed, until `merchants reindex` sets it.
const onboardedKeyFields = { onb_pk: text.optional() };

const historyEntry = z.object({
  status: z.enum(PROMOTION_STATUSES),
  effectiveAt: instant,
  processedAt: instant,
  asOf: instant.optional(), // absent for recording operations
  by: z.enum(CHANGE_SOURCES),
  reason: text.optional(),
});
const reminder = z.object({ effectiveAt: instant, processedAt: instant, asOf: instant });

/**
 * Items written before programs existed are all enrolments in NEW_MERCHANT_FEE: they read as its
 * built-in version, and take the full shape the first time they change.
 */
const enrolledProgramFields = {
  programId: text.default(NEW_MERCHANT_FEE_ENROLMENT.programId),
  program: z.object({ name: text, benefits: benefitsSchema }).default(NEW_MERCHANT_FEE_ENROLMENT.program),
  programVersion: z.number().int().nonnegative().default(NEW_MERCHANT_FEE_ENROLMENT.programVersion),
};

export const promotionRecordSchema = z.object({
  ...enrolledProgramFields,
  merchantId: text,
  onboardedOn: date,
  eligible: z.boolean(),
  startsAt: instant,
  endsBefore: instant,
  lastDay: date,
  days: z.number().int().positive(),
  status: z.enum(PROMOTION_STATUSES),
  version,
  history: z.array(historyEntry),
  revokedAt: instant.optional(),
  revokeReason: text.optional(),
  reminder: reminder.optional(),
});

export const profileRecordSchema = z.object({
  merchantId: text,
  onboardedAt: z.union([date, instant]),
  onboardedOn: date,
  categories: z.array(text),
  liveCartSources: z.array(text),
  version,
  recordedAt: instant,
  updatedAt: instant,
  occurredAt: instant.optional(), // absent on profiles recorded before it existed
});

const policyHistoryEntry = z.object({
  status: z.enum([...POLICY_STATUSES, 'ANNOUNCED', 'CORRECTED']),
  effectiveAt: instant,
  processedAt: instant,
  asOf: instant.optional(),
  reason: text.optional(),
});
const policyCategories = z.union([z.literal(ALL_CATEGORIES), z.array(text)]);

/** What the calendar records of a policy of either kind. */
const policyStateFields = {
  policyId: text,
  title: text,
  announcedOn: date,
  effectiveAt: instant,
  scope: z.object({ channel: z.literal('live'), categories: policyCategories }),
  source: text.optional(),
  status: z.enum(POLICY_STATUSES),
  version,
  history: z.array(policyHistoryEntry),
  announced: z.object({ asOf: instant, processedAt: instant, skipped: z.boolean() }).optional(),
  withdrawalNotified: z.object({ asOf: instant, processedAt: instant }).optional(),
  withdrawReason: text.optional(),
};

// Policies stored before fee policies existed have no `kind`: they are cart policies.
export const cartPolicyRecordSchema = z.object({
  kind: z.literal('CART').default('CART'),
  ...policyStateFields,
  thirdPartyProducts: z.enum(POLICY_VALUES),
});

const feeRates = z.record(text, z.object({ rate: z.number(), base: z.enum(FEE_BASES) }));
export const feePolicyRecordSchema = z.object({
  kind: z.literal('XINGTU_FEE'),
  ...policyStateFields,
  dateAssumed: z.boolean().optional(),
  rates: feeRates,
});
export const policyRecordSchema = z.discriminatedUnion('kind', [
  cartPolicyRecordSchema,
  feePolicyRecordSchema,
]);

const flagChange = z.object({
  value: z.enum(CART_FLAG_VALUES),
  since: instant,
  policyId: text,
  processedAt: instant,
  asOf: instant,
});
export const cartFlagRecordSchema = z.object({
  channel: z.enum(CART_CHANNELS),
  products: z.literal('third-party'),
  scope: text,
  value: z.enum(CART_FLAG_VALUES),
  since: instant.optional(),
  policyId: text.optional(),
  version,
  history: z.array(flagChange),
});

export const noticeStateRecordSchema = z.object({
  merchantId: text,
  policyId: text,
  status: z.enum(MERCHANT_POLICY_STATUSES),
  title: text,
  announcedOn: date,
  effectiveAt: instant,
  thirdPartyProducts: z.enum(POLICY_VALUES),
  categories: policyCategories,
  processedAt: instant,
  asOf: instant,
});

// A stored program holds the program exactly as announced (the file's schema, without its
// strictness: the item also carries its key and tag), plus its status and history.
const programFields = z.object(programSchema.unwrap().shape);
const programHistoryEntry = z.object({
  status: z.enum(PROGRAM_CHANGES),
  processedAt: instant,
  reason: text.optional(),
  previous: programFields.optional(),
});
export const programRecordSchema = programFields.extend({
  status: z.enum(PROGRAM_STATUSES),
  version,
  history: z.array(programHistoryEntry),
  withdrawReason: text.optional(),
});

export const enrolmentProgressRecordSchema = z.object({
  programId: text,
  programVersion: z.number().int().nonnegative(),
  sweptFor: programFields.shape.eligibility,
  asOf: instant,
  processedAt: instant,
});

export const feeNoticeStateRecordSchema = z.object({
  merchantId: text,
  policyId: text,
  status: z.enum(MERCHANT_POLICY_STATUSES),
  title: text,
  announcedOn: date,
  effectiveAt: instant,
  categories: policyCategories,
  rates: feeRates,
  processedAt: instant,
  asOf: instant,
});

// Compile-time: each schema reads back exactly its domain record, nested records included — a
// field or a value added on one side only fails to compile here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Matches<S extends z.ZodType, T> =
  Same<keyof z.output<S>, keyof T> extends true ? Same<z.output<S>, T> : false;
type FlagFields = Omit<z.output<typeof cartFlagRecordSchema>, 'version' | 'history'>;
const SCHEMAS_MATCH_RECORDS: [
  Matches<typeof promotionRecordSchema, Promotion>,
  Matches<typeof historyEntry, HistoryEntry>,
  Matches<typeof reminder, Reminder>,
  Matches<typeof profileRecordSchema, MerchantProfile>,
  Matches<typeof cartPolicyRecordSchema, CartPolicy>,
  Matches<typeof feePolicyRecordSchema, FeePolicy>,
  Matches<typeof policyHistoryEntry, PolicyHistoryEntry>,
  Matches<typeof cartFlagRecordSchema, StoredFlag>,
  Same<keyof FlagFields, keyof CartFlag> extends true ? Same<FlagFields, CartFlag> : false,
  Matches<typeof flagChange, FlagChange>,
  Matches<typeof noticeStateRecordSchema, MerchantPolicyNotice>,
  Matches<typeof programRecordSchema, StoredProgram>,
  Matches<typeof programHistoryEntry, ProgramHistoryEntry>,
  Matches<typeof enrolmentProgressRecordSchema, EnrolmentProgress>,
  Matches<typeof feeNoticeStateRecordSchema, MerchantFeePolicyNotice>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void SCHEMAS_MATCH_RECORDS;

/** Each kind of item's schema as stored: its record, its key attributes, its `type` tag. */
export const profileItemSchema = profileRecordSchema.extend({
  ...keyFields,
  ...audienceKeyFields,
  ...onboardedKeyFields,
  type: z.literal(MERCHANT_TYPE),
});
export const promotionItemSchema = promotionRecordSchema.extend({
  ...keyFields,
  ...dueKeyFields,
  type: z.literal(PROMOTION_TYPE),
});
/** A policy of either kind: both live in the calendar's partition under the one type tag. */
export const cartPolicyItemSchema = z.discriminatedUnion('kind', [
  cartPolicyRecordSchema.extend({ ...keyFields, type: z.literal(CART_POLICY_TYPE) }),
  feePolicyRecordSchema.extend({ ...keyFields, type: z.literal(CART_POLICY_TYPE) }),
]);
export const cartFlagItemSchema = cartFlagRecordSchema.extend({
  ...keyFields,
  type: z.literal(CART_FLAG_TYPE),
});
export const noticeStateItemSchema = noticeStateRecordSchema.extend({
  ...keyFields,
  type: z.literal(MERCHANT_CART_POLICY_TYPE),
});
export const feeNoticeStateItemSchema = feeNoticeStateRecordSchema.extend({
  ...keyFields,
  type: z.literal(MERCHANT_FEE_POLICY_TYPE),
});

export const programItemSchema = programRecordSchema.extend({
  ...keyFields,
  type: z.literal(PROGRAM_TYPE),
});
export const enrolmentProgressItemSchema = enrolmentProgressRecordSchema.extend({
  ...keyFields,
  type: z.literal(ENROLMENT_PROGRESS_TYPE),
});

/** A job's own items: its run reports (shared/store/job-runs.ts) and its lease (shared/store/leases.ts). */
/** Where the next page of one unit of work starts (an index's LastEvaluatedKey), or `done`. */
export const cursorSchema = z.union([z.literal('done'), z.record(z.string(), z.unknown())]);
export type Cursor = z.infer<typeof cursorSchema>;
/** The saved place of a run that stopped early: a cursor per unit of work. */
export const checkpointSchema = z.record(z.string(), cursorSchema);
export type Checkpoint = z.infer<typeof checkpointSchema>;

/** What status reads of a run's report; the rest of the report is kept as written. */
/** `complete` is absent on runs recorded before runs could stop early: those ran to their end. */
const storedReportSchema = z.looseObject({ complete: z.boolean().optional(), failed: z.number() });
export type StoredReport = z.infer<typeof storedReportSchema>;

export const jobRunItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  type: z.literal(JOB_RUN_TYPE),
  job: z.string(),
  asOf: z.string(),
  report: storedReportSchema,
  /** Invocations that reported this occurrence. */
  attempts: z.number().int(),
  checkpoint: checkpointSchema.optional(),
  resumeToken: z.string().optional(),
});
export type JobRunItem = z.infer<typeof jobRunItemSchema>;

export const leaseItemSchema = z.object({
  pk: z.string(),
  sk: z.literal(LEASE_SK),
  type: z.literal(JOB_LEASE_TYPE),
  job: z.string(),
  owner: z.string(),
  asOf: z.string().optional(),
  acquiredAt: z.string(),
  /** Absent on leases written before heartbeats: their acquiredAt is their last beat. */
  heartbeatAt: z.string().optional(),
  expiresAtMs: z.number(),
  ttl: z.number().optional(),
});
export type LeaseItem = z.infer<typeof leaseItemSchema>;

/**
 * A backfill under way (`run <job> --from … --to …`, cli/run/backfill.ts): since when. The occurrences
 * of its range whose job-run items finished since then, with nothing failed, are done; removed when
 * the whole range is, so the same command again after an interruption continues after them.
 */
export const backfillItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  type: z.literal(JOB_BACKFILL_TYPE),
  job: z.string(),
  from: z.string(),
  to: z.string(),
  startedAt: z.string(),
});
export type BackfillItem = z.infer<typeof backfillItemSchema>;

/** The item schemas the union is made of: a new kind of item adds its schema here. */
export const STORED_ITEM_SCHEMAS = [
  profileItemSchema,
  promotionItemSchema,
  cartPolicyItemSchema,
  cartFlagItemSchema,
  noticeStateItemSchema,
  feeNoticeStateItemSchema,
  jobRunItemSchema,
  leaseItemSchema,
  backfillItemSchema,
  programItemSchema,
  enrolmentProgressItemSchema,
] as const;
export const storedItemSchema = z.discriminatedUnion('type', STORED_ITEM_SCHEMAS);
export type StoredItem = z.output<typeof storedItemSchema>;
export type StoredType = StoredItem['type'];

/** The record each `type` tag stands for, without the key attributes (zod leaves out what it does not name). */
const RECORD_SCHEMAS = {
  [MERCHANT_TYPE]: profileRecordSchema,
  [PROMOTION_TYPE]: promotionRecordSchema,
  [CART_POLICY_TYPE]: policyRecordSchema,
  [CART_FLAG_TYPE]: cartFlagRecordSchema,
  [MERCHANT_CART_POLICY_TYPE]: noticeStateRecordSchema,
  [MERCHANT_FEE_POLICY_TYPE]: feeNoticeStateRecordSchema,
  [JOB_RUN_TYPE]: jobRunItemSchema,
  [JOB_LEASE_TYPE]: leaseItemSchema,
  [JOB_BACKFILL_TYPE]: backfillItemSchema,
  [PROGRAM_TYPE]: programRecordSchema,
  [ENROLMENT_PROGRESS_TYPE]: enrolmentProgressRecordSchema,
} as const satisfies Record<StoredType, z.ZodType>;

const keyOf = (item: Record<string, unknown>) => `${String(item.pk)} / ${String(item.sk)}`;

function malformed(item: Record<string, unknown>, problem: string): MalformedItemError {
  return new MalformedItemError(`stored item ${keyOf(item)} is malformed: ${problem}`);
}

/** An item (or the attributes of it that were read) parsed with a schema; a failure names its key and field. */
export function parseItem<S extends z.ZodType>(schema: S, item: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(item);
  if (!result.success) throw malformed(item, describeZodError(result.error));
  return result.data;
}

/** The domain record of a stored item of kind `type` (one parse); a malformed item names its key and field. */
export function readRecord<T extends StoredType>(
  type: T,
  item: Record<string, unknown>,
): z.output<(typeof RECORD_SCHEMAS)[T]> {
  if (item.type !== type) throw malformed(item, `type: must be ${type} (found ${JSON.stringify(item.type)})`);
  return parseItem(RECORD_SCHEMAS[type], item) as z.output<(typeof RECORD_SCHEMAS)[T]>;
}

/** The items whose changes merchants are told of (shared/notices/notice.ts), as the stream shows them. */
const notifyingItemSchema = z.discriminatedUnion('type', [
  promotionItemSchema,
  noticeStateItemSchema,
  feeNoticeStateItemSchema,
]);
export type NotifyingItem = z.output<typeof notifyingItemSchema>;
const NOTIFYING_TYPES = new Set<unknown>([
  PROMOTION_TYPE,
  MERCHANT_CART_POLICY_TYPE,
  MERCHANT_FEE_POLICY_TYPE,
]);

/**
 * A stream image of an item merchants are told of, checked by its schema (a malformed one throws,
 * naming its key and field); undefined for every other kind of item, which tells nobody anything.
 */
export function readNotifyingItem(item: Record<string, unknown>): NotifyingItem | undefined {
  return NOTIFYING_TYPES.has(item.type) ? parseItem(notifyingItemSchema, item) : undefined;
}
