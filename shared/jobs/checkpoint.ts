// Where a run is in its work, so that a run stopped before its deadline can be continued by another
// invocation without redoing or skipping work. A run reads its work in units (one index partition,
// page by page); for each unit it keeps a cursor (where the next page starts, or `done`), and the
// checkpoint — all the cursors — is what a stopped run saves on its job-run item.

import type { PageStart } from '../store/index-reads';
import type { Checkpoint, Cursor } from '../store/job-runs';

export type { Checkpoint, Cursor } from '../store/job-runs';

export interface RunCursors {
  /** Where a unit resumes: undefined from its start, `done` if it needs no more reading. */
  cursorOf(unit: string): Cursor | undefined;
  /** Called after every page of a unit has been fully handled; `next` is the following page's start. */
  advance(unit: string, next: PageStart | undefined): void;
  /** Whether to stop before reading another page (the deadline is near). Once true, stays true. */
  shouldStop(): boolean;
  readonly stopped: boolean;
  /** The cursors as they are now: what a stopped run saves. */
  checkpoint(): Checkpoint;
}

export function createRunCursors(options: { from?: Checkpoint; shouldStop?: () => boolean }): RunCursors {
  const cursors: Checkpoint = { ...options.from };
  let stopped = false;
  return {
    cursorOf: (unit) => cursors[unit],
    advance(unit, next) {
      cursors[unit] = next ?? 'done';
    },
    shouldStop() {
      stopped ||= options.shouldStop?.() ?? false;
      return stopped;
    },
    get stopped() {
      return stopped;
    },
    checkpoint: () => ({ ...cursors }),
  };
}

/** Reads one unit page by page from its cursor, handling each page before reading the next. */
export async function readUnit<T extends Record<string, unknown>>(
  cursors: RunCursors,
  unit: string,
  readPage: (startKey: PageStart | undefined) => Promise<{ items: T[]; next: PageStart | undefined }>,
  handlePage: (items: T[]) => Promise<void>,
): Promise<void> {
  const cursor = cursors.cursorOf(unit);
  if (cursor === 'done') return;
  let startKey = cursor;
  do {
    if (cursors.shouldStop()) return; // the cursor still points at the first page not handled
    const page = await readPage(startKey);
    await handlePage(page.items);
    startKey = page.next;
    cursors.advance(unit, startKey);
  } while (startKey);
}
