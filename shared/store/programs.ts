// The programs repository (rules §4): the `PROGRAM` partition, a handful of items read with one
// consistent Query, each program written whole, conditional on the version it was read at. The
// built-in programs are code; a stored program with the same id overrides one.
import * as z from 'zod';
import type { Deps } from '../deps';
import {
  type Program,
  type ProgramInEffect,
  programsInEffect,
  type StoredProgram,
} from '../programs/program';
import type { CalendarDate, Instant } from '../time';
import { batchGet } from './batch-get';
import { atVersion, IS_NEW, writeIf } from './conditional-write';
import { parseItem, readRecord } from './items';
import {
  ENROLMENT_PROGRESS_TYPE,
  enrolmentKey,
  enrolmentProgressKey,
  isProgramSk,
  PROGRAM_PK,
  PROGRAM_TYPE,
  PROMOTION_PROGRAM,
  programKey,
} from './keys';
import { queryPartition } from './partition-query';

/** Every stored program, by id (the partition's other items, e.g. enrolment progress, left out). */
export async function readStoredPrograms(deps: Deps): Promise<StoredProgram[]> {
  const items = await queryPartition(deps, PROGRAM_PK);
  return items.filter((item) => isProgramSk(String(item.sk))).map((item) => readRecord(PROGRAM_TYPE, item));
}

/** The content of a stored program: the program exactly as announced. */
export function contentOf({
  status: _s,
  version: _v,
  history: _h,
  withdrawReason: _w,
  ...program
}: StoredProgram): Program {
  return program;
}

/**
 * The programs in effect given what is stored: the built-ins (version 0, ANNOUNCED) each overridden
 * by a stored one with its id, then the other stored ones. The built-in `NEW_MERCHANT_FEE` starts on
 * the configured program start (PROGRAM_START), as the promotion always has.
 */
export function inEffect(stored: readonly StoredProgram[], programStart: CalendarDate): ProgramInEffect[] {
  const byId = new Map(stored.map((s) => [s.programId, s]));
  return programsInEffect(stored.map(contentOf)).map((program): ProgramInEffect => {
    const found = byId.get(program.programId);
    if (found) {
      const changedAt = found.history.at(-1)?.processedAt;
      return { program, status: found.status, version: found.version, source: 'stored', changedAt };
    }
    return {
      program: withProgramStart(program, programStart),
      status: 'ANNOUNCED',
      version: 0,
      source: 'built-in',
    };
  });
}

function withProgramStart(program: Program, programStart: CalendarDate): Program {
  return program.programId === PROMOTION_PROGRAM
    ? { ...program, eligibility: { ...program.eligibility, from: programStart } }
    : program;
}

/** The programs in effect (see inEffect), withdrawn ones included: one Query of the `PROGRAM` partition. */
export async function readPrograms(deps: Deps): Promise<ProgramInEffect[]> {
  return inEffect(await readStoredPrograms(deps), deps.programStart);
}

/**
 * Stores a program whole, in place of the version read (`readVersion`: 0 for a built-in or an id
 * never stored, so the item must not exist yet); false if someone else wrote first.
 */
export async function putProgram(deps: Deps, program: StoredProgram, readVersion: number): Promise<boolean> {
  const condition = readVersion === 0 ? IS_NEW : atVersion(readVersion);
  const item = { ...programKey(program.programId), type: PROGRAM_TYPE, ...program };
  return (await writeIf(deps, { put: item, condition })).written;
}

/** How far the activate job has enrolled one program's recorded merchants (shared/jobs/enrolment.ts). */
export interface EnrolmentProgress {
  programId: string;
  /** The program version whose enrolment is complete. */
  programVersion: number;
  /** The eligibility that was swept: a correction also sweeps it, to find merchants it no longer covers. */
  sweptFor: Program['eligibility'];
  asOf: Instant;
  processedAt: Instant;
}

/** Every program's enrolment progress, by program id (one Query of the `PROGRAM` partition). */
export async function readEnrolmentProgress(deps: Deps): Promise<Map<string, EnrolmentProgress>> {
  const items = await queryPartition(deps, PROGRAM_PK, enrolmentProgressKey('').sk);
  const records = items.map((item) => readRecord(ENROLMENT_PROGRESS_TYPE, item));
  return new Map(records.map((record) => [record.programId, record]));
}

/**
 * Records that a program version's enrolment is complete, unless a later version's already is (a
 * slower run never takes the progress back).
 */
export async function markEnrolmentProgress(deps: Deps, progress: EnrolmentProgress): Promise<void> {
  const put = { ...enrolmentProgressKey(progress.programId), type: ENROLMENT_PROGRESS_TYPE, ...progress };
  const notBehind = {
    expression: 'attribute_not_exists(pk) OR #c_pv < :c_pv',
    names: { '#c_pv': 'programVersion' },
    values: { ':c_pv': progress.programVersion },
  };
  await writeIf(deps, { put, condition: notBehind });
}

const enrolmentIdSchema = z.object({ merchantId: z.string() });

/**
 * Of these merchants, those that have an enrolment item for the program: BatchGets of the keys
 * (shared/store/batch-get.ts), reading only the merchant's id, consistently.
 */
export async function enrolledAmong(
  deps: Deps,
  programId: string,
  merchantIds: readonly string[],
): Promise<Set<string>> {
  const found = await batchGet(
    deps,
    merchantIds.map((id) => enrolmentKey(id, programId)),
    {
      ConsistentRead: true,
      ProjectionExpression: 'pk, sk, #id',
      ExpressionAttributeNames: { '#id': 'merchantId' },
    },
  );
  return new Set(found.map((item) => parseItem(enrolmentIdSchema, item).merchantId));
}
