// `notices`: the notices delivered to the local sink, as JSON Lines (the message bodies); `notices resend`
// (notices-resend-command.ts) publishes some again.
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import * as z from 'zod';
import { ConflictError, unlessMissing } from '../shared/errors';
import { NOTICE_TYPES, type Notice } from '../shared/notices/notice';
import { merchantIdSchema } from '../shared/store/keys';
import { outputOption, parseOptions, runs } from './framework';
import { defineNoticesResend } from './notices-resend-command';
import { noticeSinkPath } from './store';

export function defineNotices(program: Command) {
  const notices = program
    .command('notices')
    .addOption(outputOption())
    .usage('[--merchant <id>] [--type <type>]')
    .description('List the notices delivered to merchants (the local sink), as JSON Lines.')
    .option('--merchant <id>', "only this merchant's notices")
    .option('--type <type>', `only this type: ${NOTICE_TYPES.join(', ')}`)
    .addHelpText(
      'after',
      `
Delivers anything still waiting in the table's stream first, then prints every notice delivered to
the local sink ($PROMO_JOBS_HOME/notices.jsonl) in delivery order, one message body per line:
  { eventId, type, merchantId, effectiveAt, data, text }
See docs/notices.md for the contract.

With SNS_TOPIC_ARN set, notices go to that topic instead and are not listed here.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const filter = parseOptions(
          z.strictObject({
            '--merchant': merchantIdSchema.optional(),
            '--type': z
              .enum(NOTICE_TYPES, { error: unlessMissing(`must be one of ${NOTICE_TYPES.join(', ')}`) })
              .optional(),
          }),
          { '--merchant': options.merchant, '--type': options.type },
        );
        const store = await ctx.store();
        if (store.target === 'aws') {
          throw new ConflictError(
            'in AWS the deployed notifier publishes notices to the SNS topic: subscribe to it (see docs/infrastructure.md)',
          );
        }
        await store.deliverNotices();
        if (ctx.config.snsTopicArn)
          ctx.progress(`notices go to ${ctx.config.snsTopicArn}; the local sink lists only earlier ones`);
        const path = noticeSinkPath(store.home);
        const notices = existsSync(path)
          ? readFileSync(path, 'utf8')
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as Notice)
          : [];
        return {
          output: notices.filter(
            (n) =>
              (filter['--merchant'] === undefined || n.merchantId === filter['--merchant']) &&
              (filter['--type'] === undefined || n.type === filter['--type']),
          ),
        };
      }),
    );
  defineNoticesResend(notices);
}
