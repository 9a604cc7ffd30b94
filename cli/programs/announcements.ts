// Announcing, correcting and withdrawing programs (rules §4): the decisions; the programs repository
// (shared/store/programs.ts) writes them. Each decision is made on what is stored when it is written:
// a write that finds the program changed meanwhile reads again and decides again, so repeated and
// concurrent commands end in the same state.
import { isDeepStrictEqual } from 'node:util';
import type { Deps } from '../../shared/deps';
import { ConflictError, NotFoundError } from '../../shared/errors';
import {
  isEligible,
  MAX_PROGRAMS,
  type Program,
  type ProgramInEffect,
  type StoredProgram,
} from '../../shared/programs/program';
import { forEachOnboarded } from '../../shared/store/merchants';
import {
  enrolledAmong,
  inEffect,
  putProgram,
  readPrograms,
  readStoredPrograms,
} from '../../shared/store/programs';
import { formatInstant } from '../../shared/time';

export type ProgramOutcome = 'created' | 'corrected' | 'unchanged';

interface Planned {
  program: Program;
  outcome: ProgramOutcome;
  /** What to store, over the version read (0: nothing stored yet); absent when unchanged. */
  write?: { stored: StoredProgram; readVersion: number };
}

/** How many times a command reads again after someone else wrote first, before it gives up. */
const DECIDE_ATTEMPTS = 3;

/** Same content: the same fields and values, whatever the order of their keys. */
const sameContent = (a: Program, b: Program) => isDeepStrictEqual({ ...a }, { ...b });

/**
 * What announcing these programs does to what is stored: a new id is created (version 1); new
 * content for an id in effect, a built-in included, is a correction (version + 1, the content it
 * replaces kept in the history); the same content changes nothing. Refused, before anything is
 * written: a withdrawn id (announce a new one), and more than MAX_PROGRAMS programs not withdrawn.
 */
function plan(
  stored: readonly StoredProgram[],
  current: readonly ProgramInEffect[],
  programs: readonly Program[],
  processedAt: string,
): Planned[] {
  const planned = programs.map((program): Planned => {
    const existing = current.find((p) => p.program.programId === program.programId);
    if (!existing) {
      const history = [{ status: 'ANNOUNCED' as const, processedAt }];
      return {
        program,
        outcome: 'created',
        write: { stored: { ...program, status: 'ANNOUNCED', version: 1, history }, readVersion: 0 },
      };
    }
    if (existing.status === 'WITHDRAWN') {
      throw new ConflictError(
        `program ${program.programId} is withdrawn and can no longer be changed; announce it under a new programId`,
      );
    }
    if (sameContent(existing.program, program)) return { program, outcome: 'unchanged' };
    const history = [
      ...(stored.find((s) => s.programId === program.programId)?.history ?? []),
      { status: 'CORRECTED' as const, processedAt, previous: existing.program },
    ];
    const version = existing.version + 1;
    return {
      program,
      outcome: 'corrected',
      write: { stored: { ...program, status: 'ANNOUNCED', version, history }, readVersion: existing.version },
    };
  });
  const notWithdrawn = current.filter((p) => p.status !== 'WITHDRAWN').length;
  const created = planned.filter((p) => p.outcome === 'created').length;
  if (notWithdrawn + created > MAX_PROGRAMS) {
    throw new ConflictError(
      `announcing ${created} new program(s) would make ${notWithdrawn + created} programs not withdrawn; at most ${MAX_PROGRAMS} are allowed (a new merchant's enrolments are written in one transaction): withdraw one first`,
    );
  }
  return planned;
}

/**
 * Announces programs (already validated); with `dryRun`, only says what it would do. Returns each
 * program's outcome, in the order given.
 */
export async function announcePrograms(
  deps: Deps,
  programs: readonly Program[],
  options: { dryRun: boolean },
): Promise<{ program: Program; outcome: ProgramOutcome }[]> {
  const outcomes = new Map<string, ProgramOutcome>();
  for (let attempt = 1; attempt <= DECIDE_ATTEMPTS; attempt++) {
    const stored = await readStoredPrograms(deps);
    const planned = plan(stored, inEffect(stored, deps.programStart), programs, formatInstant(deps.clock()));
    if (options.dryRun) return planned.map(({ program, outcome }) => ({ program, outcome }));
    let lost = false;
    for (const { program, outcome, write } of planned) {
      const { programId } = program;
      if (!write) {
        // What this command wrote in an earlier attempt reads back unchanged: it keeps that outcome.
        if (!outcomes.has(programId)) outcomes.set(programId, outcome);
      } else if (await putProgram(deps, write.stored, write.readVersion)) {
        outcomes.set(programId, outcome);
      } else {
        lost = true; // someone else wrote it first: decided again on what they wrote
      }
    }
    if (!lost)
      return programs.map((program) => ({
        program,
        outcome: outcomes.get(program.programId) ?? 'unchanged',
      }));
  }
  throw new ConflictError(`the programs changed meanwhile, ${DECIDE_ATTEMPTS} times; try again`);
}

export interface Withdrawal {
  programId: string;
  changed: boolean;
  status: 'WITHDRAWN';
  version: number;
}

/**
 * Withdraws a program, a built-in included: it enrols no one new, and takes nothing given. Withdrawing
 * it again changes nothing; a program neither built in nor announced is not found.
 */
export async function withdrawProgram(deps: Deps, programId: string, reason: string): Promise<Withdrawal> {
  for (let attempt = 1; attempt <= DECIDE_ATTEMPTS; attempt++) {
    const stored = await readStoredPrograms(deps);
    const existing = inEffect(stored, deps.programStart).find((p) => p.program.programId === programId);
    if (!existing) throw new NotFoundError(`no program ${programId}`);
    if (existing.status === 'WITHDRAWN')
      return { programId, changed: false, status: 'WITHDRAWN', version: existing.version };
    const processedAt = formatInstant(deps.clock());
    const version = existing.version + 1;
    const withdrawn: StoredProgram = {
      ...existing.program,
      status: 'WITHDRAWN',
      version,
      history: [
        ...(stored.find((s) => s.programId === programId)?.history ?? []),
        { status: 'WITHDRAWN', processedAt, reason },
      ],
      withdrawReason: reason,
    };
    if (await putProgram(deps, withdrawn, existing.version))
      return { programId, changed: true, status: 'WITHDRAWN', version };
  }
  throw new ConflictError(`program ${programId} changed meanwhile, ${DECIDE_ATTEMPTS} times; try again`);
}

/** The recorded merchants eligible for a program: its range of T in the onboarded index (never a Scan), then its categories. */
async function eligibleMerchants(deps: Deps, program: Program): Promise<string[]> {
  const ids: string[] = [];
  const { from, until } = program.eligibility;
  await forEachOnboarded(deps, { from, until }, ({ merchantId, onboardedOn, categories }) => {
    if (isEligible(program, onboardedOn, categories)) ids.push(merchantId);
  });
  return ids;
}

/** How many recorded merchants are eligible for each of these programs under the content now stored. */
export async function countEligible(deps: Deps, programIds: readonly string[]): Promise<Map<string, number>> {
  const current = await readPrograms(deps);
  const counts = new Map<string, number>();
  for (const programId of programIds) {
    const found = current.find((p) => p.program.programId === programId);
    counts.set(programId, found ? (await eligibleMerchants(deps, found.program)).length : 0);
  }
  return counts;
}

/**
 * How many recorded merchants the next activate run would enrol in each of these programs, as the
 * file has them: those eligible under that content that have no enrolment in the program yet.
 */
export async function countWouldEnrol(
  deps: Deps,
  programs: readonly Program[],
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const program of programs) {
    const eligible = await eligibleMerchants(deps, program);
    const enrolled = await enrolledAmong(deps, program.programId, eligible);
    counts.set(program.programId, eligible.length - enrolled.size);
  }
  return counts;
}
