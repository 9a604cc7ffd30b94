// `policies …` and `flags`: the live-room cart policy calendar, as data, and the flags it sets.
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import type { Deps } from '../shared/deps';
import { describeZodError, InputError } from '../shared/errors';
import {
  CART_FLAG_VALUES,
  cartPolicyInputSchema,
  flagsAt,
  flagTimeline,
  POLICY_VALUES,
} from '../shared/policies/policy';
import { listStoredFlags, type StoredFlag } from '../shared/store/flags';
import { listPolicies } from '../shared/store/policies';
import { formatInstant, type Instant, instantSchema } from '../shared/time';
import { type CommandContext, group, parseOptions, reasonSchema, runs } from './framework';
import {
  type AnnounceOutcome,
  announcePolicy,
  countAffected,
  withdrawPolicy,
} from './policies/announcements';
import { DEFAULT_CART_POLICIES } from './policies/calendar';

async function announceAll(
  deps: Deps,
  inputs: unknown[],
  where: (i: number) => string,
  progress: CommandContext['progress'],
) {
  // Validate everything first: a file with one bad policy records none of them.
  const policies = inputs.map((input, i) => {
    const result = cartPolicyInputSchema.safeParse(input);
    if (!result.success) throw new InputError(describeZodError(result.error, where(i)));
    return result.data;
  });
  const outcomes: { policy: (typeof policies)[number]; outcome: AnnounceOutcome }[] = [];
  for (const policy of policies) outcomes.push({ policy, outcome: await announcePolicy(deps, policy) });
  // Counted once all are recorded: a policy's effect depends on the others in the calendar.
  const affected = await countAffected(
    deps,
    policies.map((p) => p.policyId),
  );
  const summary: Record<AnnounceOutcome, number> & {
    affects: number;
    policies: { policyId: string; outcome: AnnounceOutcome; affects: number }[];
  } = { created: 0, updated: 0, unchanged: 0, affects: 0, policies: [] };
  for (const {
    policy: { policyId, effectiveAt: at },
    outcome,
  } of outcomes) {
    const affects = affected.get(policyId) ?? 0;
    summary[outcome]++;
    summary.affects += affects;
    summary.policies.push({ policyId, outcome, affects });
    progress(
      `${policyId}: ${outcome}; affects ${affects} merchant${affects === 1 ? '' : 's'} (changes their live-room cart at ${at})`,
    );
    if (affects === 0) {
      progress(
        `warning: ${policyId} changes the live-room cart of no merchant at ${at}, given the calendar (a policy in force there is as strict or stricter, or no merchant in its scope sells third-party products): nobody will be told`,
      );
    }
  }
  return summary;
}

const POLICY_FORMAT = `
A policy:
  {
    "policyId": "live-third-party-xingtu-only-2020-09-06",
    "title": "直播间第三方平台商品需通过星图下单方可进入购物车",
    "announcedOn": "2020-08-26",
    "effectiveAt": "2020-09-06",                  (a date means its 00:00 Asia/Shanghai; or an instant)
    "scope": { "channel": "live", "categories": "ALL" },   (or a list, e.g. ["cosmetics"])
    "thirdPartyProducts": "${POLICY_VALUES[0]}"           (one of ${POLICY_VALUES.join(', ')})
  }`;

export function definePolicies(program: Command) {
  const policies = group(program, 'policies', 'The live-room cart policy calendar.');
  policies
    .command('load-default')
    .description('Record the built-in calendar: the two dated live-room cart policies of 2020.')
    .addHelpText(
      'after',
      `
Records 2020-09-06 (third-party products only through a Xingtu order) and 2020-10-09 (third-party
products blocked), both announced 2020-08-26, for all categories of live rooms. Loading them again
changes nothing. Prints { created, updated, unchanged, affects, policies: [{ policyId, outcome, affects }] }
(affects: how many merchants each policy would tell, as in "policies announce").`,
    )
    .action(
      runs(async (_input, ctx) => {
        const { deps } = await ctx.store();
        return {
          output: await announceAll(deps, DEFAULT_CART_POLICIES, (i) => `policies[${i}]`, ctx.progress),
        };
      }),
    );

  policies
    .command('announce')
    .usage('<file.json>')
    .description('Record a new cart policy, or correct one not yet in force, from a JSON file.')
    .argument('<file.json>', 'one policy, or an array of them')
    .addHelpText(
      'after',
      `
The file holds one policy or an array of them. No redeploy is needed: the cart-policies job reads the
calendar from the table. A policy with the same scope and instant as another is refused; a policy in
force can no longer be changed. Correcting the date of an announced policy re-announces it.
${POLICY_FORMAT}

A merchant is told of a policy (announced, then in force) only if it changes the value that applies
to them at its instant, given the calendar: a cosmetics XINGTU_ONLY policy after an all-category
BLOCKED one is in force tells nobody. "affects" is how many merchants each policy would tell, counted
now (the cart-policies job decides again at each step); stderr says it, and warns when it is none.

Prints { created, updated, unchanged, affects, policies: [{ policyId, outcome, affects }] } (the top
affects sums the policies'); nothing is recorded if any policy in the file is invalid (exit 2) or
conflicts (exit 1).`,
    )
    .action(
      runs(async ({ args }, ctx) => {
        const path = args[0] as string;
        if (!existsSync(path)) throw new InputError(`<file.json>: no such file: ${path}`);
        let value: unknown;
        try {
          value = JSON.parse(readFileSync(path, 'utf8'));
        } catch {
          throw new InputError('<file.json>: not valid JSON');
        }
        const inputs = Array.isArray(value) ? value : [value];
        const { deps } = await ctx.store();
        return {
          output: await announceAll(
            deps,
            inputs,
            (i) => (Array.isArray(value) ? `[${i}]` : ''),
            ctx.progress,
          ),
        };
      }),
    );

  policies
    .command('withdraw')
    .usage('<policyId> --reason <text>')
    .description('Withdraw a cart policy that is not yet in force.')
    .argument('<policyId>')
    .requiredOption('--reason <text>', 'why (at most 500 characters)')
    .addHelpText(
      'after',
      `
Merchants who were told of its announcement are told it is withdrawn by the next cart-policies run.
Prints { policyId, changed }.`,
    )
    .action(
      runs(async ({ args: [policyId], options }, ctx) => {
        const args = parseOptions(
          z.strictObject({
            '<policyId>': z.string().min(1, 'must not be empty'),
            '--reason': reasonSchema,
          }),
          { '<policyId>': policyId, '--reason': options.reason },
        );
        const { deps } = await ctx.store();
        return { output: await withdrawPolicy(deps, args['<policyId>'], args['--reason']) };
      }),
    );

  policies
    .command('list')
    .description('List the cart policy calendar (JSON Lines, in order of the instants they take effect).')
    .addHelpText(
      'after',
      `
Each line: { policyId, title, announcedOn, effectiveAt, scope, thirdPartyProducts, status, announced, history }.
status is SCHEDULED (not yet in force), IN_FORCE or WITHDRAWN.`,
    )
    .action(
      runs(async (_input, ctx) => {
        const { deps } = await ctx.store();
        return { output: (await listPolicies(deps)).map(({ version: _version, ...policy }) => policy) };
      }),
    );
}

export function defineFlags(program: Command) {
  program
    .command('flags')
    .usage('[--at <instant>] [--timeline]')
    .description('The live-room cart flags at an instant (default: now), from the policy calendar.')
    .option('--at <instant>', 'the instant to ask about (with offset), e.g. 2020-09-06T00:00:00+08:00')
    .option('--timeline', 'print every change of every flag instead (JSON Lines); with --at, those up to it')
    .addHelpText(
      'after',
      `
For each scope (ALL categories, and each category a policy names) the value for third-party products
in live-room carts: ${CART_FLAG_VALUES.join(' → ')}, the most restrictive policy in force winning.
Computed from the calendar, so it is right at any instant even before the cart-policies job has run;
"applied" is what that job had applied as of the same instant: the last change made by a run as of
--at or earlier, with the history up to it (null if no run had changed the flag by then).
Short videos are always ALLOWED.

Prints one line per flag: { channel, products, scope, value, since, policyId, at, applied }.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const args = parseOptions(z.strictObject({ '--at': instantSchema.optional() }), {
          '--at': options.at,
        });
        const { deps } = await ctx.store();
        const at = args['--at'] ?? formatInstant(deps.clock()); // a reader's "now"; jobs never use the clock this way
        const policies = await listPolicies(deps);
        if (options.timeline) {
          const timeline = flagTimeline(policies);
          return { output: args['--at'] ? timeline.filter((change) => change.since <= at) : timeline };
        }
        const stored = await listStoredFlags(deps);
        return {
          output: flagsAt(policies, at).map((flag) => {
            const applied = stored.find((s) => s.channel === flag.channel && s.scope === flag.scope);
            return { ...flag, at, applied: applied ? appliedAsOf(applied, at) : null };
          }),
        };
      }),
    );
}

/**
 * What the cart-policies job had applied to a stored flag as of an instant: its changes made by runs
 * as of that instant or earlier (the job's own time, as every job's "now"), the last one current.
 */
function appliedAsOf(flag: StoredFlag, at: Instant) {
  const history = flag.history.filter((change) => change.asOf <= at);
  const last = history.at(-1);
  return last ? { value: last.value, since: last.since, policyId: last.policyId, history } : null;
}
