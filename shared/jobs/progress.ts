// How far a run has got, so that a run stopped before its deadline can be continued by another
// invocation without redoing or skipping work. A run reads its work in units (one index partition,
// page by page); the checkpoint holds, for each unit, where the next page starts, or `done`.
export type Cursor = Record<string, unknown> | 'done';
export type Checkpoint = Record<string, Cursor>;

export interface RunProgress {
  /** Where a unit resumes: undefined from its start, `done` if it needs no more reading. */
  cursorOf(unit: string): Cursor | undefined;
  /** Called after every page of a unit has been fully handled; `next` is the following page's start. */
  advance(unit: string, next: Record<string, unknown> | undefined): Promise<void>;
  /** Whether to stop before reading another page (the deadline is near). Once true, stays true. */
  shouldStop(): boolean;
  readonly stopped: boolean;
  checkpoint(): Checkpoint;
}

export function createProgress(options: { from?: Checkpoint; shouldStop?: () => boolean }): RunProgress {
  const cursors: Checkpoint = { ...options.from };
  let stopped = false;
  return {
    cursorOf: (unit) => cursors[unit],
    async advance(unit, next) {
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
  progress: RunProgress,
  unit: string,
  readPage: (
    startKey: Record<string, unknown> | undefined,
  ) => Promise<{ items: T[]; next: Record<string, unknown> | undefined }>,
  handlePage: (items: T[]) => Promise<void>,
): Promise<void> {
  const cursor = progress.cursorOf(unit);
  if (cursor === 'done') return;
  let startKey = cursor;
  do {
    if (progress.shouldStop()) return; // the cursor still points at the first page not handled
    const page = await readPage(startKey);
    await handlePage(page.items);
    startKey = page.next;
    await progress.advance(unit, startKey);
  } while (startKey);
}
