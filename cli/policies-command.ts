// `policies …` and `flags`: the policy calendar (live-room cart policies and Xingtu fee policies), as
// data, and the flags its cart policies set.
import type { Command } from 'commander';
import * as z from 'zod';
import type { Deps } from '../shared/deps';
import { describeZodError, InputError } from '../shared/errors';
import {
  CART_FLAG_VALUES,
  FEE_BASES,
  flagsAt,
  flagTimeline,
  POLICY_VALUES,
  type PolicyKind,
  policyInputSchema,
} from '../shared/policies/policy';
import { listStoredFlags, type StoredFlag } from '../shared/store/flags';
import { listPolicies } from '../shared/store/policies';
import { formatInstant, type Instant, instantSchema } from '../shared/time';
import {
  type CommandContext,
  type CommandResult,
  changeSummary,
  group,
  jsonEntriesIn,
  outputOption,
  parseOptions,
  reasonSchema,
  runs,
} from './framework';
import {
  type AnnounceOutcome,
  announcePolicy,
  countAffected,
  withdrawPolicy,
} from './policies/announcements';
import { DEFAULT_POLICIES } from './policies/calendar';

/** What announcing a file did, as the command's output and its summary line. */
function announced(what: string, outcomes: Awaited<ReturnType<typeof announceAll>>): CommandResult {
  const { created, updated, unchanged } = outcomes;
  return { output: outcomes, summary: changeSummary(what, { created, updated, unchanged }) };
}

async function announceAll(
  deps: Deps,
  inputs: unknown[],
  where: (i: number) => string,
  progress: CommandContext['progress'],
) {
  // Validate everything first: a file with one bad policy records none of them.
  const policies = inputs.map((input, i) => {
    const result = policyInputSchema.safeParse(input);
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
    policy: { policyId, effectiveAt: at, kind },
    outcome,
  } of outcomes) {
    const affects = affected.get(policyId) ?? 0;
    summary[outcome]++;
    summary.affects += affects;
    summary.policies.push({ policyId, outcome, affects });
    const { changes, what, why } = AFFECTS[kind];
    progress(
      `${policyId}: ${outcome}; affects ${affects} merchant${affects === 1 ? '' : 's'} (changes ${changes} at ${at})`,
    );
    if (affects === 0) {
      progress(
        `warning: ${policyId} changes ${what} of no merchant at ${at}, given the calendar (${why}): nobody will be told`,
      );
    }
  }
  return summary;
}

/** What a policy of each kind changes for a merchant, and why it may change it for none, as stderr says it. */
const AFFECTS: Record<PolicyKind, { changes: string; what: string; why: string }> = {
  CART: {
    changes: 'their live-room cart',
    what: 'the live-room cart',
    why: 'a policy in force there is as strict or stricter, or no merchant in its scope sells third-party products',
  },
  XINGTU_FEE: {
    changes: 'their Xingtu fees',
    what: 'the Xingtu fees',
    why: 'a more specific policy of the same instant prices the same links, or no merchant in its scope has live carts of a link source it prices',
  },
};

/** The file format of each kind of policy, for the help (a new kind does not compile without its own). */
const POLICY_FORMATS: Record<PolicyKind, string> = {
  CART: `
A cart policy ("kind": "CART", or no kind):
  {
    "policyId": "live-third-party-xingtu-only-2020-09-06",
    "title": "直播间第三方平台商品需通过星图下单方可进入购物车",
    "announcedOn": "2020-08-26",
    "effectiveAt": "2020-09-06",                  (a date means its 00:00 Asia/Shanghai; or an instant)
    "scope": { "channel": "live", "categories": "ALL" },   (or a list, e.g. ["cosmetics"])
    "thirdPartyProducts": "${POLICY_VALUES[0]}"           (one of ${POLICY_VALUES.join(', ')})
  }`,
  XINGTU_FEE: `
A Xingtu fee policy (rules §5):
  {
    "kind": "XINGTU_FEE",
    "policyId": "XINGTU_FEE_2020_08_20",                   (upper-case letters, digits and "_")
    "title": "星图直播任务服务费调整",
    "announcedOn": "2020-08-19",
    "effectiveAt": "2020-08-20",
    "scope": { "channel": "live", "categories": "ALL" },
    "dateAssumed": false,                                  (optional: the source gives no exact day)
    "rates": {                                             (per link source: "shop", "third-party"
      "shop": { "rate": 0.05, "base": "TASK_AMOUNT" },       for every other source, or a named one
      "third-party": { "rate": 0.2, "base": "TASK_AMOUNT" }  such as "taobao"; base one of
    }                                                       ${FEE_BASES.join(', ')})
  }`,
};
const POLICY_FORMAT = Object.values(POLICY_FORMATS).join('\n');

export function definePolicies(program: Command) {
  const policies = group(
    program,
    'policies',
    'The policy calendar: live-room cart policies and Xingtu fee policies.',
  );
  policies
    .command('load-default')
    .description(
      'Record the built-in calendar: the two dated live-room cart policies and the two Xingtu fee policies of 2020.',
    )
    .addHelpText(
      'after',
      `
Records 2020-09-06 (third-party products only through a Xingtu order) and 2020-10-09 (third-party
products blocked), both announced 2020-08-26, for all categories of live rooms; and the Xingtu fee
policies XINGTU_FEE_2020_07_COSMETICS (2020-07-31, dateAssumed: the source says "late July";
cosmetics: shop links 1% of GMV, third-party links 5% of the streamer's fixed fee) and
XINGTU_FEE_2020_08_20 (2020-08-20, all categories: shop links 5%, third-party links 20% of the task
amount), each taken as announced the day before (the source gives no day). Loading them again
changes nothing. Prints { created, updated, unchanged, affects, policies: [{ policyId, outcome, affects }] }
(affects: how many merchants each policy would tell, as in "policies announce").`,
    )
    .action(
      runs(async (_input, ctx) => {
        const { deps } = await ctx.store();
        return announced(
          'policies load-default',
          await announceAll(deps, DEFAULT_POLICIES, (i) => `policies[${i}]`, ctx.progress),
        );
      }),
    );

  policies
    .command('announce')
    .usage('<file.json>')
    .description('Record a new cart or fee policy, or correct one not yet in force, from a JSON file.')
    .argument('<file.json>', 'one policy, or an array of them')
    .addHelpText(
      'after',
      `
The file holds one policy or an array of them, of either kind. No redeploy is needed: the
cart-policies job reads the calendar from the table. A policy with the same scope and instant as another is refused; a policy in
force can no longer be changed. Correcting the date of an announced policy re-announces it.
${POLICY_FORMAT}

A merchant is told of a policy (announced, then in force) only if it changes the value that applies
to them at its instant, given the calendar: a cosmetics XINGTU_ONLY policy after an all-category
BLOCKED one is in force tells nobody. A fee policy tells the merchants whose live carts hold products
of a link source it prices, in its category scope, unless a scoped fee policy of the same instant
outranks it for them. "affects" is how many merchants each policy would tell, counted
now (the cart-policies job decides again at each step); stderr says it, and warns when it is none.

Prints { created, updated, unchanged, affects, policies: [{ policyId, outcome, affects }] } (the top
affects sums the policies'); nothing is recorded if any policy in the file is invalid (exit 2) or
conflicts (exit 1).`,
    )
    .action(
      runs(async ({ args }, ctx) => {
        const { entries, where } = jsonEntriesIn(args[0] as string);
        const { deps } = await ctx.store();
        return announced('policies announce', await announceAll(deps, entries, where, ctx.progress));
      }),
    );

  policies
    .command('withdraw')
    .usage('<policyId> --reason <text>')
    .description('Withdraw a cart or fee policy that is not yet in force.')
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
        const withdrawal = await withdrawPolicy(deps, args['<policyId>'], args['--reason']);
        return {
          output: withdrawal,
          summary: withdrawal.changed
            ? `policies withdraw: ${withdrawal.policyId} withdrawn`
            : `policies withdraw: nothing changed; ${withdrawal.policyId} was already withdrawn`,
        };
      }),
    );

  policies
    .command('list')
    .addOption(outputOption())
    .description('List the policy calendar (JSON Lines, in order of the instants they take effect).')
    .addHelpText(
      'after',
      `
Each line: { kind, policyId, title, announcedOn, effectiveAt, scope, thirdPartyProducts, status, announced, history }
for a cart policy (kind CART); a fee policy (kind XINGTU_FEE) has rates (and dateAssumed) instead
of thirdPartyProducts. status is SCHEDULED (not yet in force), IN_FORCE or WITHDRAWN.`,
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
