// `notices resend`: the notices a merchant's stored state implies (stored-notices.ts), all of them, of
// one type, or the one with an eventId, published again through a publisher (the local sink or an SNS
// topic) with the eventIds they first had, so subscribers that saw them already drop them.
import { existsSync, readFileSync } from 'node:fs';
import type { Deps } from '../../shared/deps';
import { NotFoundError } from '../../shared/errors';
import type { Notice, NoticeType } from '../../shared/notices/notice';
import type { NoticePublisher } from '../../shared/notices/publisher';
import { getMerchant } from '../../shared/store/merchants';
import { storedNotices } from './stored-notices';

export type ResendSelection =
  | { merchantId: string; type?: NoticeType }
  | { eventId: string; merchantId: string };

export interface ResendLine {
  eventId: string;
  type: NoticeType;
  merchantId: string;
  publishedTo: string;
}

export interface ResendOutcome {
  resent: ResendLine[];
  failed: { eventId: string; type: NoticeType; error: string }[];
}

/** The notices of the selection, from the merchant's stored state; unknown merchant or eventId: NotFoundError. */
export async function noticesToResend(deps: Deps, selection: ResendSelection): Promise<Notice[]> {
  const view = await getMerchant(deps, selection.merchantId);
  if (!view) throw new NotFoundError(`no merchant ${selection.merchantId}`);
  const notices = storedNotices(view);
  if ('eventId' in selection) {
    const found = notices.find((n) => n.eventId === selection.eventId);
    if (!found) {
      throw new NotFoundError(
        `no notice ${selection.eventId} in the stored state of merchant ${selection.merchantId} (see: merchant ${selection.merchantId}; notices --merchant ${selection.merchantId})`,
      );
    }
    return [found];
  }
  return selection.type === undefined ? notices : notices.filter((n) => n.type === selection.type);
}

/** Publishes the notices again; what the publisher did not take is reported, not printed as resent. */
export async function resend(
  notices: Notice[],
  publisher: NoticePublisher,
  publishedTo: string,
): Promise<ResendOutcome> {
  if (notices.length === 0) return { resent: [], failed: [] };
  const outcome = await publisher.publish(notices);
  const failedIds = new Map(outcome.failed.map((f) => [f.notice.eventId, f.error]));
  return {
    resent: notices
      .filter((n) => !failedIds.has(n.eventId))
      .map(({ eventId, type, merchantId }) => ({ eventId, type, merchantId, publishedTo })),
    failed: notices.flatMap((n) => {
      const error = failedIds.get(n.eventId);
      return error === undefined ? [] : [{ eventId: n.eventId, type: n.type, error }];
    }),
  };
}

/**
 * The merchant a notice delivered to the local sink was for (an eventId is a hash of what the notice
 * is about: it does not name its merchant); undefined when the sink does not hold it.
 */
export function merchantOfSunkNotice(sinkPath: string, eventId: string): string | undefined {
  if (!existsSync(sinkPath)) return undefined;
  for (const line of readFileSync(sinkPath, 'utf8').split('\n')) {
    if (!line.includes(eventId)) continue;
    const notice = JSON.parse(line) as Notice;
    if (notice.eventId === eventId) return notice.merchantId;
  }
  return undefined;
}
