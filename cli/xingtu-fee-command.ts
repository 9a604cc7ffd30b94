// `xingtu-fee`: the Xingtu service fee of a live-selling task at an instant (rules §5), from the
// policy calendar as stored: its fee policies price the task, its cart policies say whether a
// third-party link may be sold at all.
import type { Command } from 'commander';
import * as z from 'zod';
import { InputError } from '../shared/errors';
import { type FeeBase, OWN_SHOP, slugSchema, THIRD_PARTY } from '../shared/policies/policy';
import { amountFenSchema, xingtuFeeAt } from '../shared/policies/xingtu-fee';
import { listPolicies } from '../shared/store/policies';
import { instantSchema } from '../shared/time';
import { inOptionTerms, parseOptions, runs } from './framework';

/** The option that gives the amount each base is a share of: a new base does not compile without one. */
const BASE_OPTION = {
  GMV: '--gmv',
  STREAMER_FIXED_FEE: '--streamer-fee',
  TASK_AMOUNT: '--task-amount',
} as const satisfies Record<FeeBase, `--${string}`>;

const isBase = (field: string): field is FeeBase => Object.hasOwn(BASE_OPTION, field);

export function defineXingtuFee(program: Command) {
  program
    .command('xingtu-fee')
    .usage(
      '--at <instant> --category <c> --link-source <shop|taobao|jd|…> [--task-amount n] [--gmv n] [--streamer-fee n]',
    )
    .description('The Xingtu service fee of a live-selling task at an instant, from the policy calendar.')
    .requiredOption('--at <instant>', 'when the task is sold (with offset), e.g. 2020-08-20T00:00:00+08:00')
    .requiredOption('--category <c>', 'the category of the products, e.g. cosmetics')
    .requiredOption(
      '--link-source <s>',
      `where the product links lead: ${OWN_SHOP} (the merchant's Douyin shop), or a third party (taobao, jd, …)`,
    )
    .option(`${BASE_OPTION.TASK_AMOUNT} <n>`, 'the live-selling task amount, in yuan')
    .option(`${BASE_OPTION.GMV} <n>`, "the live room's GMV of the products, in yuan")
    .option(`${BASE_OPTION.STREAMER_FIXED_FEE} <n>`, "the streamer's fixed fee (一口价, 坑位费), in yuan")
    .addHelpText(
      'after',
      `
The fee policy that prices the task is the most recent one in force at --at whose scope holds the
category (a category-scoped policy and an ALL one: the more recent wins; at the same instant, the
scoped one) and that prices the link source (its own rate, else "${THIRD_PARTY}" for any source but
${OWN_SHOP}). Its rate applies to the amount of its base: GMV (${BASE_OPTION.GMV}), STREAMER_FIXED_FEE
(${BASE_OPTION.STREAMER_FIXED_FEE}) or TASK_AMOUNT (${BASE_OPTION.TASK_AMOUNT}); only that amount is needed,
and its absence is bad input (exit 2, naming the option). The fee is computed in integer fen, rounded
half up to the fen.

A third-party link where the live-room cart flag is BLOCKED at --at (from the cart policies of the
calendar, at that instant) cannot be sold: allowed false, no fee, blockedBy the cart policy. Before
any fee policy prices the task: policyId null, fee null.

Load the calendar first ("policies load-default", or "policies announce").

Prints { at, category, linkSource, allowed, fee, feeFen, rate, base, policyId } (fee in yuan;
blockedBy when not allowed).`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const given = {
          '--at': options.at,
          '--category': options.category,
          '--link-source': options.linkSource,
          '--task-amount': options.taskAmount,
          '--gmv': options.gmv,
          '--streamer-fee': options.streamerFee,
        };
        const args = parseOptions(
          z.strictObject({
            '--at': instantSchema,
            '--category': slugSchema,
            '--link-source': slugSchema,
            '--task-amount': amountFenSchema.optional(),
            '--gmv': amountFenSchema.optional(),
            '--streamer-fee': amountFenSchema.optional(),
          } satisfies Record<(typeof BASE_OPTION)[FeeBase], unknown> & Record<string, z.ZodType>),
          given,
        );
        const { deps } = await ctx.store();
        const task = {
          at: args['--at'],
          category: args['--category'],
          linkSource: args['--link-source'],
          amountsFen: {
            GMV: args[BASE_OPTION.GMV],
            STREAMER_FIXED_FEE: args[BASE_OPTION.STREAMER_FIXED_FEE],
            TASK_AMOUNT: args[BASE_OPTION.TASK_AMOUNT],
          },
        };
        try {
          const quote = xingtuFeeAt(await listPolicies(deps), task);
          return { output: { at: task.at, category: task.category, linkSource: task.linkSource, ...quote } };
        } catch (error) {
          // The amount the policy's base needs: named by its option.
          if (!(error instanceof InputError)) throw error;
          throw inOptionTerms(error.problems, given, (field) => (isBase(field) ? BASE_OPTION[field] : field));
        }
      }),
    );
}
