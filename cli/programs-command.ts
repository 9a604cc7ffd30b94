// `programs …`: the promotion programs (rules §4) as data — listed, announced (or corrected) from a
// file, withdrawn — without a redeploy: the recorder and the jobs read them from the table.
import type { Command } from 'commander';
import * as z from 'zod';
import { InputError, zodProblems } from '../shared/errors';
import {
  BUILT_IN_PROGRAMS,
  CAPABILITIES,
  MAX_PROGRAMS,
  type Program,
  type ProgramInEffect,
  programIdSchema,
  programSchema,
} from '../shared/programs/program';
import { readPrograms } from '../shared/store/programs';
import {
  changeSummary,
  group,
  jsonEntriesIn,
  outputOption,
  parseOptions,
  reasonSchema,
  runs,
} from './framework';
import {
  announcePrograms,
  countEligible,
  countWouldEnrol,
  type ProgramOutcome,
  withdrawProgram,
} from './programs/announcements';

/** A program as `programs list` prints it. */
const listed = ({ program, status, version, source }: ProgramInEffect) => ({
  programId: program.programId,
  name: program.name,
  eligibility: program.eligibility,
  window: program.window,
  benefits: program.benefits,
  status,
  dateAssumed: program.dateAssumed ?? false,
  version,
  source,
});

/** The programs a file holds (one object or an array), each checked; one bad entry refuses them all. */
function programsIn(path: string): Program[] {
  const { entries, where } = jsonEntriesIn(path);
  if (entries.length === 0) throw new InputError('<file.json>: holds no program');
  const problems = entries.flatMap((entry, i) => {
    const result = programSchema.safeParse(entry);
    return result.success ? [] : zodProblems(result.error, where(i));
  });
  if (problems.length > 0) throw new InputError(problems);
  const programs = entries.map((entry) => programSchema.parse(entry));
  const seen = new Set<string>();
  programs.forEach(({ programId }, i) => {
    if (seen.has(programId)) {
      throw new InputError([
        { field: `${where(i)}.programId`, problem: `${programId} appears twice in the file` },
      ]);
    }
    seen.add(programId);
  });
  return programs;
}

/** The example in the help: the built-in seed plan as a file holds it, one field a line. */
const EXAMPLE = BUILT_IN_PROGRAMS.find((p) => p.programId === 'SEED_PLAN_2020') ?? {};
const PROGRAM_FORMAT = `
A program (the built-in seed plan, as an example):
  {
${Object.entries(EXAMPLE)
  .map(([field, value]) => `    ${JSON.stringify(field)}: ${JSON.stringify(value)}`)
  .join(',\n')}
  }

  programId    A–Z, 0–9 and _
  name         the name merchants read in their notices (zh-CN)
  eligibility  merchants onboarded on a day T in [from, until) (until optional), with one of the
               categories listed ("ALL": any)
  window       [T+startOffsetDays 00:00, T+startOffsetDays+lengthDays 00:00) Asia/Shanghai
  benefits     at least one of: feeRate (a cap on the technical service fee of non-ad orders, e.g.
               0.01), capabilities (${CAPABILITIES.join(', ')}), training (true)
  dateAssumed  optional: the source gives no exact date, the one here is assumed`;

export function definePrograms(program: Command) {
  const programs = group(
    program,
    'programs',
    'Promotion programs (the new-merchant fee, the seed plan, …) as data.',
  );
  programs
    .command('list')
    .addOption(outputOption())
    .description('List the programs in effect, built-ins included (JSON Lines).')
    .addHelpText(
      'after',
      `
Each line: { programId, name, eligibility, window, benefits, status, dateAssumed, version, source }.
status is ANNOUNCED or WITHDRAWN; source is built-in (present without any load step, version 0) or
stored (announced, or a built-in corrected or withdrawn: the stored one overrides it).`,
    )
    .action(
      runs(async (_input, ctx) => {
        const { deps } = await ctx.store();
        return { output: (await readPrograms(deps)).map(listed) };
      }),
    );

  programs
    .command('announce')
    .usage('<file.json> [--dry-run]')
    .description('Record new programs, or correct programs in effect, from a JSON file.')
    .argument('<file.json>', 'one program, or an array of them')
    .option('--dry-run', 'say what it would do; write nothing')
    .addHelpText(
      'after',
      `
The file holds one program or an array of them, exactly in the format below. No redeploy is needed:
the recorder and the jobs read the programs from the table. A new programId is created; new content
for a programId in effect (a built-in included) is a correction (its version goes up, the content it
replaced is kept in its history); the same content again changes nothing. A withdrawn programId is
refused (announce a new one), as is a new program that would make more than ${MAX_PROGRAMS} not withdrawn.
Nothing is recorded if any entry of the file is invalid (exit 2) or refused (exit 1).
${PROGRAM_FORMAT}

Prints one line per program: { programId, …program, outcome, eligible }: outcome is created,
corrected or unchanged; eligible, how many recorded merchants are eligible under the content now
stored. With --dry-run nothing is written, and each line is { programId, …program, outcome,
wouldEnrol }: the outcome it would have, and how many recorded merchants the next activate run
would enrol (eligible under the file's content, not yet enrolled in the program). Both counts read
the onboarded index, never the whole table; they are forecasts (the activate run decides again).`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const inFile = programsIn(args[0] as string);
        const dryRun = options.dryRun === true;
        const { deps } = await ctx.store();
        const outcomes = await announcePrograms(deps, inFile, { dryRun });
        const counts: Record<ProgramOutcome, number> = { created: 0, corrected: 0, unchanged: 0 };
        for (const { outcome } of outcomes) counts[outcome]++;
        const summary = dryRun
          ? `programs announce (dry run): nothing changed; would have created ${counts.created}, corrected ${counts.corrected}, unchanged ${counts.unchanged}`
          : changeSummary('programs announce', counts);
        if (dryRun) {
          const wouldEnrol = await countWouldEnrol(deps, inFile);
          return {
            output: outcomes.map(({ program, outcome }) => ({
              ...program,
              outcome,
              wouldEnrol: wouldEnrol.get(program.programId) ?? 0,
            })),
            summary,
          };
        }
        // Counted once all are written, on what is stored then.
        const eligible = await countEligible(
          deps,
          inFile.map((p) => p.programId),
        );
        return {
          output: outcomes.map(({ program, outcome }) => ({
            ...program,
            outcome,
            eligible: eligible.get(program.programId) ?? 0,
          })),
          summary,
        };
      }),
    );

  programs
    .command('withdraw')
    .usage('<programId> --reason <text>')
    .description('Withdraw a program: it enrols no one new and takes nothing given.')
    .argument('<programId>')
    .requiredOption('--reason <text>', 'why (at most 500 characters)')
    .addHelpText(
      'after',
      `
A built-in program can be withdrawn too. Enrolments already made run their course (nothing given is
taken back); no merchant is enrolled in it any more. Withdrawing it again changes nothing; a
withdrawn programId cannot be announced again. Prints { programId, changed, status, version }.`,
    )
    .action(
      runs(async ({ args: [programId], options }, ctx) => {
        const args = parseOptions(
          z.strictObject({ '<programId>': programIdSchema, '--reason': reasonSchema }),
          {
            '<programId>': programId,
            '--reason': options.reason,
          },
        );
        const { deps } = await ctx.store();
        const withdrawal = await withdrawProgram(deps, args['<programId>'], args['--reason']);
        return {
          output: withdrawal,
          summary: withdrawal.changed
            ? `programs withdraw: ${withdrawal.programId} withdrawn (version ${withdrawal.version})`
            : `programs withdraw: nothing changed; ${withdrawal.programId} was already withdrawn`,
        };
      }),
    );
}
