// What a run of one occurrence carries while it works, and what it counts.
import type { Deps } from '../deps';
import type { Instant } from '../time';
import type { RunCursors } from './checkpoint';
import type { Projection } from './projection';

export interface RunCounts {
  examined: number;
  changed: number;
  alreadyDone: number;
  failed: number;
  /** Changes by kind: the statuses entered (ACTIVE, EXPIRED, …), ENDING_SOON reminders, notices, flags. */
  transitions: Record<string, number>;
  failures: { merchantId: string; error: string }[];
}

export function emptyCounts(): RunCounts {
  return { examined: 0, changed: 0, alreadyDone: 0, failed: 0, transitions: {}, failures: [] };
}

export function countChange(counts: RunCounts, kinds: string[]): void {
  counts.changed++;
  for (const kind of kinds) counts.transitions[kind] = (counts.transitions[kind] ?? 0) + 1;
}

/** Everything a run carries while it works. */
export interface RunContext {
  deps: Deps;
  asOf: Instant;
  dryRun: boolean;
  counts: RunCounts;
  /** Where the run is in each unit of its work, and whether it must stop. */
  cursors: RunCursors;
  /** In a dry run, what its earlier occurrences would have written (one per runJob call). */
  projection?: Projection;
  /** Called after each page of work is handled, with the counts so far. */
  onPage?: (counts: RunCounts) => void;
}
