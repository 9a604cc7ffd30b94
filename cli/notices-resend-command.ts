// `notices resend`: publish again, from the stored state, the notices a subscriber lost: one by its
// eventId, or a merchant's (of one type), to the local sink, SNS_TOPIC_ARN, or with --aws the deployed topic.
import { SNSClient } from '@aws-sdk/client-sns';
import type { Command } from 'commander';
import * as z from 'zod';
import { InputError, NotFoundError, unlessMissing } from '../shared/errors';
import { NOTICE_TYPES } from '../shared/notices/notice';
import { fileSink, type NoticePublisher, snsPublisher } from '../shared/notices/publisher';
import { merchantIdSchema } from '../shared/store/keys';
import { EXIT, outputOption, parseOptions, runs } from './framework';
import { merchantOfSunkNotice, noticesToResend, type ResendSelection, resend } from './notices/resend';
import { noticeSinkPath } from './store';

const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function defineNoticesResend(notices: Command) {
  notices
    .command('resend')
    .addOption(outputOption())
    .usage('(--event-id <id> [--merchant <id>] | --merchant <id> [--type <type>])')
    .description('Publish notices again from the stored state, with the same eventIds.')
    .option('--event-id <id>', 'the one notice with this eventId')
    .option('--merchant <id>', "the merchant's notices (with --event-id: whose notice it is)")
    .option('--type <type>', `with --merchant: only this type: ${NOTICE_TYPES.join(', ')}`)
    .addHelpText(
      'after',
      `
Derives the notices from what the table holds for the merchant, exactly as the notifier derived them
from the stream when the state changed (same eventId, type, text and data), and publishes them again:
locally to the local sink ($PROMO_JOBS_HOME/notices.jsonl) or SNS_TOPIC_ARN; with --aws to the
deployed topic, named by --topic-arn or SNS_TOPIC_ARN (the stack output NoticesTopicArn). Subscribers
dedupe on eventId, so one that had the notice drops the copy.

An eventId is a hash: it does not name its merchant. Locally the merchant is found in the local sink;
with --aws (or a notice the sink does not hold) give --merchant too.
Of a cart or fee policy's notices only the latest is implied (a notice state keeps its latest status).

Prints one line per notice resent: { eventId, type, merchantId, publishedTo }, and one summary line on
stderr. Exits 1 if the merchant or the eventId is unknown, or a notice was not taken.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const given = parseOptions(
          z.strictObject({
            '--event-id': z
              .string()
              .regex(EVENT_ID, 'must be an eventId (8-4-4-4-12 lower-case hex digits)')
              .optional(),
            '--merchant': merchantIdSchema.optional(),
            '--type': z
              .enum(NOTICE_TYPES, { error: unlessMissing(`must be one of ${NOTICE_TYPES.join(', ')}`) })
              .optional(),
          }),
          { '--event-id': options.eventId, '--merchant': options.merchant, '--type': options.type },
        );
        const eventId = given['--event-id'];
        if (eventId === undefined && given['--merchant'] === undefined) {
          throw new InputError('--event-id or --merchant: required (which notices to resend)');
        }
        if (eventId !== undefined && given['--type'] !== undefined) {
          throw new InputError('--type: not with --event-id (an eventId names one notice)');
        }
        const aws = ctx.config.target === 'aws';
        const topicArn = ctx.config.snsTopicArn;
        if (aws && !topicArn) {
          throw new InputError(
            '--topic-arn: required with --aws: the deployed notices topic (the stack output NoticesTopicArn), e.g. --aws --topic-arn arn:aws:sns:<region>:<account>:promo-jobs-<stage>-notices, or SNS_TOPIC_ARN',
          );
        }
        const store = await ctx.store();
        const sinkPath = noticeSinkPath(store.home);
        let selection: ResendSelection;
        if (eventId === undefined) {
          selection = { merchantId: given['--merchant'] as string, type: given['--type'] };
        } else {
          const merchantId =
            given['--merchant'] ?? (aws ? undefined : merchantOfSunkNotice(sinkPath, eventId));
          if (merchantId === undefined) {
            if (aws)
              throw new InputError(
                '--merchant: required with --event-id and --aws (an eventId does not name its merchant)',
              );
            throw new NotFoundError(
              `no notice ${eventId} in the local sink ${sinkPath}: give --merchant too`,
            );
          }
          selection = { eventId, merchantId };
        }
        const notices = await noticesToResend(store.deps, selection);
        const sns = topicArn ? new SNSClient({}) : undefined;
        try {
          const publisher: NoticePublisher =
            sns && topicArn ? snsPublisher(sns, topicArn, ctx.log) : fileSink(sinkPath);
          const publishedTo = topicArn ?? sinkPath;
          const { resent, failed } = await resend(notices, publisher, publishedTo);
          for (const f of failed) ctx.progress(`not resent: ${f.eventId} ${f.type}: ${f.error}`);
          ctx.progress(
            notices.length === 0
              ? 'nothing to resend'
              : `resent ${resent.length} notice${resent.length === 1 ? '' : 's'} to ${publishedTo}${failed.length > 0 ? `; ${failed.length} not taken` : ''} (same eventIds: subscribers drop what they had)`,
          );
          return {
            output: resent,
            exitCode: failed.length > 0 ? EXIT.failed : EXIT.ok,
            columns: ['eventId', 'type', 'merchantId', 'publishedTo'],
          };
        } finally {
          sns?.destroy();
        }
      }),
    );
}
