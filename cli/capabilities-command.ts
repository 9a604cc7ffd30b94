// `capabilities`: what a merchant's enrolments let it do at an instant (rules §4), derived from the
// stored enrolments' windows and revocations, like quotes: never from the stored status.
import type { Command } from 'commander';
import * as z from 'zod';
import { NotFoundError } from '../shared/errors';
import { CAPABILITIES } from '../shared/programs/program';
import { capabilitiesAt } from '../shared/promotion/lifecycle';
import { merchantIdSchema } from '../shared/store/keys';
import { readEnrolments } from '../shared/store/promotions';
import { formatInstant, instantSchema } from '../shared/time';
import { parseOptions, runs } from './framework';

export function defineCapabilities(program: Command) {
  program
    .command('capabilities')
    .usage('<merchantId> [--at <instant>]')
    .description("List the capabilities a merchant's programs give it at an instant.")
    .argument('<merchantId>')
    .option('--at <instant>', 'the instant to ask about (with offset; default: now)')
    .addHelpText(
      'after',
      `
A capability (${CAPABILITIES.join(', ')}) is in force while an
enrolment whose program gives it is active: from its window's start to its end, and not from a
revocation on. Decided by the windows and the revocation instant, never the stored status.

Prints { merchantId, at, capabilities: [names in force] }; exits 1 if there is no such merchant.
Example: capabilities merchant-c --at 2020-07-08T00:00:00+08:00
  → { "merchantId": "merchant-c", "at": "2020-07-08T00:00:00.000+08:00",
      "capabilities": ["LIVE_CART_ZERO_FOLLOWERS", "LIVE_TRAFFIC_SUPPORT"] }
  (a cosmetics merchant onboarded on 2020-07-06: its seed-plan window starts at that instant)`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const given = parseOptions(
          z.strictObject({ '<merchantId>': merchantIdSchema, '--at': instantSchema.optional() }),
          { '<merchantId>': args[0], '--at': options.at },
        );
        const merchantId = given['<merchantId>'];
        const { deps } = await ctx.store();
        const at = given['--at'] ?? formatInstant(deps.clock());
        const enrolments = await readEnrolments(deps, merchantId);
        if (enrolments.length === 0) throw new NotFoundError(`no merchant ${merchantId}`);
        return { output: { merchantId, at, capabilities: capabilitiesAt(enrolments, at) } };
      }),
    );
}
