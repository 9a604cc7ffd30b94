// The notices a merchant's stored state implies (for `notices resend`), derived by the very function
// the notifier applies to the stream (noticesFor), fed the writes the stored state tells of: an
// enrolment's history replayed write by write (the entries one write recorded share their stamp), its
// reminder, and each cart / fee policy notice state as it stands. The same eventIds, types, texts and
// data come out as the notifier published, so subscribers recognise a resent notice by its eventId.
import { type ItemChange, type Notice, noticesFor } from '../../shared/notices/notice';
import type { HistoryEntry, Promotion } from '../../shared/promotion/lifecycle';
import { type NotifyingItem, readNotifyingItem } from '../../shared/store/items';
import {
  feeNoticeStateKey,
  MERCHANT_CART_POLICY_TYPE,
  MERCHANT_FEE_POLICY_TYPE,
  noticeStateKey,
} from '../../shared/store/keys';
import type { MerchantView } from '../../shared/store/merchants';
import { promotionItem } from '../../shared/store/promotions';

/** The entries one write appended: written together, they carry one stamp (processedAt, asOf, who). */
const stampOf = (entry: HistoryEntry) => `${entry.processedAt}|${entry.asOf ?? ''}|${entry.by}`;

/** A promotion's history cut into the writes that made it: [start, end) of each. */
function writesOf(history: readonly HistoryEntry[]): [number, number][] {
  const writes: [number, number][] = [];
  for (let i = 0; i < history.length; i++) {
    const last = writes.at(-1);
    const previous = history[i - 1];
    if (last && previous && stampOf(previous) === stampOf(history[i] as HistoryEntry)) last[1] = i + 1;
    else writes.push([i, i + 1]);
  }
  return writes;
}

/**
 * The changes of an enrolment that told its merchant something, as the stream carried them: each write
 * of its history (the item as it was before and after), and the write that recorded its reminder
 * (always while ACTIVE: the expire job records it only then, and only a correction removes it).
 * The window and program words are the item's as stored now (a correction of T since re-words an
 * older notice's window; its eventId does not change).
 */
function enrolmentChanges(promotion: Promotion): ItemChange[] {
  const { reminder, ...rest } = promotion;
  const imageAt = (end: number, withReminder: boolean): NotifyingItem => {
    const history = promotion.history.slice(0, end);
    const status = history.at(-1)?.status ?? promotion.status;
    return readNotifyingItem(
      promotionItem({ ...rest, history, status, ...(withReminder && reminder ? { reminder } : {}) }, null),
    ) as NotifyingItem;
  };
  const changes: ItemChange[] = writesOf(promotion.history).map(([start, end]) => ({
    oldImage: start === 0 ? undefined : imageAt(start, false),
    newImage: imageAt(end, false),
  }));
  if (reminder) {
    const at = (withReminder: boolean) =>
      readNotifyingItem(
        promotionItem({ ...rest, status: 'ACTIVE', ...(withReminder ? { reminder } : {}) }, null),
      ) as NotifyingItem;
    changes.push({ oldImage: at(false), newImage: at(true) });
  }
  return changes;
}

/** A notice state as its item: the stream's image of it when it was last written. */
function stateImage(item: Record<string, unknown>): ItemChange {
  return { newImage: readNotifyingItem(item) };
}

/**
 * Every notice the merchant's stored state implies, in order: each enrolment's (by program), then the
 * cart-policy and fee-policy notices. A notice state keeps only its latest status, so of a policy's
 * notices (announced, then in force, or withdrawn) only the latest is implied.
 */
export function storedNotices(view: MerchantView): Notice[] {
  // An enrolment's notices in the order they happened (its reminder comes before its end).
  const ofEnrolments = view.enrolments.flatMap((enrolment) =>
    enrolmentChanges(enrolment)
      .flatMap(noticesFor)
      .sort((a, b) => a.effectiveAt.localeCompare(b.effectiveAt)),
  );
  const changes: ItemChange[] = [
    ...view.cartPolicies.map((state) =>
      stateImage({
        ...noticeStateKey(state.merchantId, state.policyId),
        type: MERCHANT_CART_POLICY_TYPE,
        ...state,
      }),
    ),
    ...view.feePolicies.map((state) =>
      stateImage({
        ...feeNoticeStateKey(state.merchantId, state.policyId),
        type: MERCHANT_FEE_POLICY_TYPE,
        ...state,
      }),
    ),
  ];
  return [...ofEnrolments, ...changes.flatMap(noticesFor)];
}
