// The promotions repository. Every change is written conditional on the version it was planned
// from, so concurrent or repeated writers can never both apply it; the step the promotion waits for
// next is filed under the due index key its job reads (keys.ts).
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Deps } from '../deps';
import {
  type NextStep,
  PROMOTION_STATUSES,
  type Promotion,
  type PromotionChange,
  type PromotionStatus,
} from '../promotion/lifecycle';
import { batchGet } from './batch-get';
import {
  atVersion,
  type ConditionalWrite,
  IS_NEW,
  type Update,
  writeAllIf,
  writeIf,
} from './conditional-write';
import { MalformedItemError, parseItem, readRecord } from './items';
import {
  dueKeyOf,
  ENROLMENT_SK_PREFIX,
  enrolmentKey,
  enrolmentSk,
  merchantPk,
  PROMOTION_TYPE,
  profileKey,
  promotionKey,
} from './keys';
import { queryPartition } from './partition-query';

/** The promotion as stored, waiting for `next`. */
export function promotionItem(promotion: Promotion, next: NextStep | null): Record<string, unknown> {
  return {
    ...enrolmentKey(promotion.merchantId, promotion.programId),
    type: PROMOTION_TYPE,
    ...promotion,
    ...dueKeyOf(promotion.merchantId, next),
  };
}

/** A promotion read from the table or an index; a malformed one is an error naming its key and field. */
export function readPromotion(item: Record<string, unknown>): Promotion {
  const promotion = readRecord(PROMOTION_TYPE, item);
  // The key names the program: an item filed under another program's key would be applied to it.
  const sk = enrolmentSk(promotion.programId);
  if (item.sk !== undefined && item.sk !== sk) {
    throw new MalformedItemError(
      `stored item ${String(item.pk)} / ${String(item.sk)} is malformed: programId: ${promotion.programId} belongs under ${sk}`,
    );
  }
  return promotion;
}

export async function getPromotion(deps: Deps, merchantId: string): Promise<Promotion | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: promotionKey(merchantId), ConsistentRead: true }),
  );
  return Item ? readPromotion(Item) : undefined;
}

/** The write that applies a planned change, conditional on the planned-from version. */
export function promotionChangeWrite(promotion: Promotion, change: PromotionChange): ConditionalWrite {
  const due = dueKeyOf(promotion.merchantId, change.next);
  const update: Required<Pick<Update, 'set' | 'remove'>> & Update = {
    set: {
      ...change.window,
      status: change.status,
      version: promotion.version + 1,
      // Items recorded before programs existed take the enrolment's shape the first time they change.
      programId: promotion.programId,
      program: change.program ?? promotion.program,
      programVersion: change.programVersion ?? promotion.programVersion,
      ...(change.reminder ? { reminder: change.reminder } : {}),
      ...(change.revoked ? { revokedAt: change.revoked.at, revokeReason: change.revoked.reason } : {}),
      ...due,
    },
    remove: [...(change.reminder === null ? ['reminder'] : []), ...(due ? [] : ['due_pk', 'due_sk'])],
  };
  if (change.entries.length > 0) update.append = { history: change.entries };
  return {
    key: enrolmentKey(promotion.merchantId, promotion.programId),
    update,
    condition: atVersion(promotion.version),
  };
}

/** Every enrolment of a merchant (the items of its partition under `PROMO#`), read consistently. */
export async function readEnrolments(deps: Deps, merchantId: string): Promise<Promotion[]> {
  const items = await queryPartition(deps, merchantPk(merchantId), ENROLMENT_SK_PREFIX);
  return items.map(readPromotion);
}

/** Applies changes to several enrolments together (one transaction); false if any changed meanwhile. */
export function applyEnrolmentChanges(
  deps: Deps,
  changes: readonly { promotion: Promotion; change: PromotionChange }[],
): Promise<boolean> {
  return writeAllIf(
    deps,
    changes.map(({ promotion, change }) => promotionChangeWrite(promotion, change)),
  );
}

/**
 * Writes an enrolment (a new item, or a change of one) only if the merchant's profile is still at the
 * version it was planned from (one transaction: the index the plan came from may lag behind a
 * correction); false when either changed meanwhile.
 */
export function writeEnrolment(
  deps: Deps,
  profileVersion: number,
  write: { created: Promotion; next: NextStep | null } | { promotion: Promotion; change: PromotionChange },
): Promise<boolean> {
  const merchantId = 'created' in write ? write.created.merchantId : write.promotion.merchantId;
  const enrolment =
    'created' in write
      ? { put: promotionItem(write.created, write.next), condition: IS_NEW }
      : promotionChangeWrite(write.promotion, write.change);
  return writeAllIf(deps, [
    { check: profileKey(merchantId), condition: atVersion(profileVersion) },
    enrolment,
  ]);
}

export type ApplyResult = { applied: true } | { applied: false; current: Promotion | undefined };

/**
 * Applies a change if the promotion is still at the version it was planned from. On a lost race it
 * returns the promotion as it is now (from the failed condition, no extra read) so the caller can re-plan.
 */
export async function applyPromotionChange(
  deps: Deps,
  promotion: Promotion,
  change: PromotionChange,
): Promise<ApplyResult> {
  const outcome = await writeIf(deps, promotionChangeWrite(promotion, change));
  if (outcome.written) return { applied: true };
  return { applied: false, current: outcome.current ? readPromotion(outcome.current) : undefined };
}

/**
 * These merchants' enrolments in one program, read consistently (100 keys a request), by merchant;
 * an item that cannot be read is that merchant's error, not the others'.
 */
export async function getEnrolments(
  deps: Deps,
  merchantIds: readonly string[],
  programId: string,
): Promise<Map<string, Promotion | MalformedItemError>> {
  const found = new Map<string, Promotion | MalformedItemError>();
  const keys = merchantIds.map((id) => enrolmentKey(id, programId));
  for (const item of await batchGet(deps, keys, { ConsistentRead: true })) {
    try {
      const enrolment = readPromotion(item);
      found.set(enrolment.merchantId, enrolment);
    } catch (error) {
      if (!(error instanceof MalformedItemError)) throw error;
      found.set(String(item.merchantId), error);
    }
  }
  return found;
}

const statusOnly = z.object({ merchantId: z.string(), status: z.enum(PROMOTION_STATUSES) });

/** The status of each of these merchants' promotions (100 keys a request; merchants without one are left out). */
export async function promotionStatuses(
  deps: Deps,
  merchantIds: string[],
): Promise<Map<string, PromotionStatus>> {
  const statuses = new Map<string, PromotionStatus>();
  const items = await batchGet(deps, merchantIds.map(promotionKey), {
    ProjectionExpression: 'pk, sk, merchantId, #s',
    ExpressionAttributeNames: { '#s': 'status' },
  });
  for (const item of items) {
    const { merchantId, status } = parseItem(statusOnly, item);
    statuses.set(merchantId, status);
  }
  return statuses;
}
