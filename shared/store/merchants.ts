// The merchants repository: profiles (with the audience and onboarded index keys), read together with
// their promotion; a new merchant's profile and promotion, and a corrected T with its promotion's
// change, are written in one transaction so they never disagree. Also the merchants read through the
// audience and onboarded indexes, and the one-off backfill of the onboarded index.
import { paginateQuery, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Deps } from '../deps';
import type { MerchantFeePolicyNotice, MerchantPolicyNotice } from '../policies/policy';
import type { NextStep, Promotion, PromotionChange } from '../promotion/lifecycle';
import type { CalendarDate, Instant } from '../time';
import { batchGet } from './batch-get';
import {
  atVersion,
  type Condition,
  type ConditionalWrite,
  IS_NEW,
  writeAllIf,
  writeIf,
} from './conditional-write';
import {
  type IndexPage,
  type IndexQuery,
  type OnboardedRange,
  onboardedPartitions,
  onboardedQuery,
  type PageStart,
} from './index-reads';
import { MalformedItemError, parseItem, profileRecordSchema, readRecord } from './items';
import {
  audienceKey,
  ENROLMENT_SK_PREFIX,
  enrolmentKey,
  MERCHANT_CART_POLICY_TYPE,
  MERCHANT_FEE_POLICY_TYPE,
  MERCHANT_TYPE,
  merchantCartPolicySk,
  merchantFeePolicySk,
  merchantPk,
  onboardedKey,
  PROFILE_SK,
  PROMOTION_PROGRAM,
  profileKey,
} from './keys';
import { queryPartition } from './partition-query';
import { promotionChangeWrite, promotionItem, readPromotion } from './promotions';
import { ONBOARDED_INDEX } from './table';

export interface MerchantProfile {
  merchantId: string;
  /** The onboarding as recorded (a date, or an instant normalised to +08:00). */
  onboardedAt: string;
  onboardedOn: CalendarDate;
  categories: string[];
  liveCartSources: string[];
  version: number;
  recordedAt: Instant;
  updatedAt: Instant;
  /**
   * When the record that set this profile was made (an upstream event's own time, or when an operator
   * recorded it): older records are ignored as stale. Absent on profiles recorded before it existed.
   */
  occurredAt?: Instant;
}

export function profileItem(profile: MerchantProfile): Record<string, unknown> {
  return {
    ...profileKey(profile.merchantId),
    type: MERCHANT_TYPE,
    ...profile,
    ...audienceKey(profile.merchantId, profile.liveCartSources),
    ...onboardedKey(profile.merchantId),
  };
}

export interface MerchantRecords {
  profile?: MerchantProfile;
  /** The merchant's enrolment in each program that has one, by program id. */
  enrolments?: Map<string, Promotion>;
  /** Why a stored item of this merchant could not be read: what is recorded for it cannot be trusted. */
  malformed?: MalformedItemError;
}

/**
 * The profile and the enrolments in these programs of each of these merchants, read consistently
 * (BatchGetItem, 100 keys a request). A malformed item is that merchant's problem alone, not the others'.
 */
export async function readMerchants(
  deps: Deps,
  merchantIds: string[],
  programIds: readonly string[],
): Promise<Map<string, MerchantRecords>> {
  const records = new Map<string, MerchantRecords>(merchantIds.map((id) => [id, { enrolments: new Map() }]));
  const idOf = new Map(merchantIds.map((id) => [merchantPk(id), id]));
  const keys = merchantIds.flatMap((id) => [
    profileKey(id),
    ...programIds.map((programId) => enrolmentKey(id, programId)),
  ]);
  for (const item of await batchGet(deps, keys, { ConsistentRead: true })) {
    const entry = records.get(idOf.get(String(item.pk)) ?? '');
    if (!entry) continue;
    try {
      if (item.sk === PROFILE_SK) entry.profile = readRecord(MERCHANT_TYPE, item);
      else {
        const enrolment = readPromotion(item);
        entry.enrolments?.set(enrolment.programId, enrolment);
      }
    } catch (error) {
      if (!(error instanceof MalformedItemError)) throw error;
      entry.malformed = error;
    }
  }
  return records;
}

/** An enrolment to write for the first time, with the step it waits for. */
export interface NewEnrolment {
  promotion: Promotion;
  next: NextStep | null;
}
/** A planned change to an enrolment as read. */
export interface EnrolmentChange {
  promotion: Promotion;
  change: PromotionChange;
}

/** The writes that record a new merchant and its enrolments: each only if its item does not exist yet. */
export function newMerchantWrites(
  profile: MerchantProfile,
  enrolments: readonly NewEnrolment[],
): ConditionalWrite[] {
  return [{ put: profileItem(profile), condition: IS_NEW }, ...enrolments.map(newEnrolmentWrite)];
}

/** A new enrolment, written only if it does not exist yet. */
const newEnrolmentWrite = ({ promotion, next }: NewEnrolment): ConditionalWrite => ({
  put: promotionItem(promotion, next),
  condition: IS_NEW,
});

/**
 * The writes that replace a profile read at `readVersion` and apply the changes to its enrolments and
 * write the new ones: each only if what it writes over is still as read.
 */
export function replacedProfileWrites(
  profile: MerchantProfile,
  readVersion: number,
  changes: readonly EnrolmentChange[] = [],
  created: readonly NewEnrolment[] = [],
): ConditionalWrite[] {
  return [
    { put: profileItem(profile), condition: atVersion(readVersion) },
    ...changes.map(({ promotion, change }) => promotionChangeWrite(promotion, change)),
    ...created.map(newEnrolmentWrite),
  ];
}

/**
 * Writes one merchant's writes all or none: a lone write as itself, more in one transaction; false
 * if any condition failed (someone else wrote first).
 */
export async function writeMerchant(deps: Deps, writes: readonly ConditionalWrite[]): Promise<boolean> {
  const [only] = writes;
  if (only && writes.length === 1) return (await writeIf(deps, only)).written;
  return writeAllIf(deps, [...writes]);
}

export interface MerchantView {
  profile: MerchantProfile;
  /** Its NEW_MERCHANT_FEE enrolment (today's promotion). */
  promotion: Promotion | undefined;
  /** Every enrolment it has an item for, that one included, in key order. */
  enrolments: Promotion[];
  /** The merchant's notice state for each cart policy that reached it. */
  cartPolicies: MerchantPolicyNotice[];
  /** The merchant's notice state for each Xingtu fee policy that reached it. */
  feePolicies: MerchantFeePolicyNotice[];
}

/** A merchant's profile, enrolments and notice states (its whole partition, read consistently). */
export async function getMerchant(deps: Deps, merchantId: string): Promise<MerchantView | undefined> {
  const items = await queryPartition(deps, merchantPk(merchantId));
  const profile = items.find((item) => item.sk === PROFILE_SK);
  if (!profile) return undefined;
  const enrolments = items
    .filter((item) => String(item.sk).startsWith(ENROLMENT_SK_PREFIX))
    .map(readPromotion);
  return {
    profile: readRecord(MERCHANT_TYPE, profile),
    promotion: enrolments.find((enrolment) => enrolment.programId === PROMOTION_PROGRAM),
    enrolments,
    cartPolicies: items
      .filter((item) => String(item.sk).startsWith(merchantCartPolicySk('')))
      .map((item) => readRecord(MERCHANT_CART_POLICY_TYPE, item)),
    feePolicies: items
      .filter((item) => String(item.sk).startsWith(merchantFeePolicySk('')))
      .map((item) => readRecord(MERCHANT_FEE_POLICY_TYPE, item)),
  };
}

/**
 * What the audience index gives of a merchant: who, the categories a policy's scope is matched on, and
 * the link sources of its live carts (those a fee policy prices).
 */
const audienceMemberSchema = z.object({
  merchantId: z.string(),
  categories: z.array(z.string()),
  liveCartSources: z.array(z.string()),
});
export type AudienceMember = z.output<typeof audienceMemberSchema>;

/** One item read from the audience index (a merchant profile), checked. */
export const readAudienceMember = (item: Record<string, unknown>): AudienceMember =>
  parseItem(audienceMemberSchema, item);

/**
 * Every merchant the queries return (each a whole partition of an index holding profiles), all in
 * parallel, page by page; only who they are, their categories and live-cart sources are read.
 */
export async function forEachMember(
  deps: Deps,
  queries: readonly IndexQuery[],
  visit: (member: AudienceMember) => void,
): Promise<void> {
  const names = { '#m': 'merchantId', '#c': 'categories', '#s': 'liveCartSources' };
  await Promise.all(
    queries.map(async (query) => {
      const pages = paginateQuery(
        { client: deps.db, pageSize: deps.pageSize },
        {
          TableName: deps.tableName,
          ...query,
          ExpressionAttributeNames: { ...query.ExpressionAttributeNames, ...names },
          ProjectionExpression: Object.keys(names).join(', '),
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) visit(readAudienceMember(item));
      }
    }),
  );
}

/**
 * What the onboarded index gives of a merchant: its projection (ONBOARDED_INDEX), enough to decide a
 * program's eligibility and plan an enrolment, and the profile version that plan was made from.
 */
const onboardedEntrySchema = profileRecordSchema.pick({
  merchantId: true,
  onboardedOn: true,
  onboardedAt: true,
  categories: true,
  liveCartSources: true,
  version: true,
});
export type OnboardedEntry = z.output<typeof onboardedEntrySchema>;

// Compile-time: the entry reads exactly what the index projects (its attributes and its sort key).
type Projected = (typeof ONBOARDED_INDEX.projection.attributes)[number] | typeof ONBOARDED_INDEX.sortKey;
const ENTRY_IS_PROJECTION: [keyof OnboardedEntry] extends [Projected]
  ? [Projected] extends [keyof OnboardedEntry]
    ? true
    : false
  : false = true;
void ENTRY_IS_PROJECTION;

/** One item read from the onboarded index (a merchant profile's projection), checked. */
export const readOnboardedEntry = (item: Record<string, unknown>): OnboardedEntry =>
  parseItem(onboardedEntrySchema, item);

/**
 * Every merchant onboarded within `range`, through the onboarded index: all shards in parallel, page
 * by page. (A job reads the same queries through forEachItem, with checkpoints.)
 */
export async function forEachOnboarded(
  deps: Deps,
  range: OnboardedRange,
  visit: (entry: OnboardedEntry) => void,
): Promise<void> {
  await Promise.all(
    onboardedPartitions().map(async (partition) => {
      const pages = paginateQuery(
        { client: deps.db, pageSize: deps.pageSize },
        { TableName: deps.tableName, ...onboardedQuery(partition, range) },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) visit(readOnboardedEntry(item));
      }
    }),
  );
}

// Backfilling the onboarded index (`merchants reindex`, cli/import/reindex.ts): profiles recorded
// before it existed lack `onb_pk`. This is the one Scan in the system, a migration run once after the
// release that added the index; no job and no Lambda role may Scan.

/** Where one segment of a parallel Scan is: its number among `total`. */
export interface ScanSegment {
  segment: number;
  total: number;
}

/** One page of one segment of the Scan for profiles without `onb_pk` (only their keys and id are read). */
export async function scanProfilesWithoutOnboardedKey(
  deps: Deps,
  segment: ScanSegment,
  startKey: PageStart | undefined,
): Promise<IndexPage> {
  const page = await deps.db.send(
    new ScanCommand({
      TableName: deps.tableName,
      Segment: segment.segment,
      TotalSegments: segment.total,
      FilterExpression: '#type = :merchant AND attribute_not_exists(#onb)',
      ProjectionExpression: '#pk, #sk, #id',
      ExpressionAttributeNames: {
        '#type': 'type',
        '#onb': ONBOARDED_INDEX.partitionKey,
        '#pk': 'pk',
        '#sk': 'sk',
        '#id': 'merchantId',
      },
      ExpressionAttributeValues: { ':merchant': MERCHANT_TYPE },
      Limit: deps.pageSize,
      ExclusiveStartKey: startKey,
    }),
  );
  return { items: page.Items ?? [], next: page.LastEvaluatedKey };
}

/** The profile exists and has no onboarded key yet: never creates an item, never rewrites a key. */
const LACKS_ONBOARDED_KEY: Condition = {
  expression: 'attribute_exists(pk) AND attribute_not_exists(#c_onb)',
  names: { '#c_onb': ONBOARDED_INDEX.partitionKey },
};

/**
 * Puts a profile recorded before the onboarded index into it; false if it is there already (a
 * profile written since carries the key) or gone. The key depends on the id alone, so this can never
 * disagree with a concurrent write of the profile.
 */
export async function addOnboardedKey(deps: Deps, merchantId: string): Promise<boolean> {
  const outcome = await writeIf(deps, {
    key: profileKey(merchantId),
    update: { set: onboardedKey(merchantId) },
    condition: LACKS_ONBOARDED_KEY,
  });
  return outcome.written;
}
