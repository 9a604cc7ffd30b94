// `notices`: the notices delivered to the local sink, as JSON Lines (the message bodies).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConflictError, parseInput, unlessMissing } from '../shared/errors';
import { NOTICE_TYPES, type Notice } from '../shared/notices/notice';
import { merchantIdSchema } from '../shared/store/keys';
import type { Command } from './framework';
import { noticeSinkPath } from './store';

export const noticesCommand: Command = {
  name: 'notices',
  usage: 'notices [--merchant <id>] [--type <type>]',
  summary: 'List the notices delivered to merchants (the local sink), as JSON Lines.',
  options: { merchant: { type: 'string' }, type: { type: 'string' } },
  help: `
Delivers anything still waiting in the table's stream first, then prints every notice delivered to
the local sink ($PROMO_JOBS_HOME/notices.jsonl) in delivery order, one message body per line:
  { eventId, type, merchantId, effectiveAt, data, text }
See docs/notices.md for the contract.

  --merchant <id>   only this merchant's notices
  --type <type>     only this type: ${NOTICE_TYPES.join(', ')}

With SNS_TOPIC_ARN set, notices go to that topic instead and are not listed here.`,
  async run({ values }, ctx) {
    const filter = parseInput(
      z.strictObject({
        '--merchant': merchantIdSchema.optional(),
        '--type': z
          .enum(NOTICE_TYPES, { error: unlessMissing(`must be one of ${NOTICE_TYPES.join(', ')}`) })
          .optional(),
      }),
      { '--merchant': values.merchant, '--type': values.type },
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
  },
};
