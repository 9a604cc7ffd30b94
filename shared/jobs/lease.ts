// One run of a job at a time: a lease item per job (`JOB#<job>` / `LEASE`). The lease is short
// (LEASE_TTL_MS) and a live run keeps it with a heartbeat, a timer independent of how far the run has got;
// a holder that dies (kill -9, a Lambda timeout) stops beating and its lease lapses within the TTL.
// Every renewal is conditional on ownership: a run that finds its lease taken over (or gone) has lost
// it, and from then on sends nothing more (see fenced()). An invocation that finds the lease held
// either refuses at once (Lambda: its asynchronous retries try again later) or, as the CLI does, waits
// while the lease lapses. Leases are about real time, so they use the wall clock, never the run's asOf.

import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Deps } from '../deps';
import { ConflictError } from '../errors';
import { sleep } from '../retry';
import { deleteLease, getLease, type LeaseItem, renewLease, takeLease } from '../store/leases';
import { formatInstant, type Instant, parseInstant } from '../time';

/** How long a lease lasts without a heartbeat: a killed run's job is free again this long after its last beat. */
export const LEASE_TTL_MS = 30_000;
/** A live run renews its lease this often (three beats per TTL: two may be missed without losing it). */
export const heartbeatInterval = (ttlMs: number) => Math.max(1, Math.floor(ttlMs / 3));
/** While waiting for a lapsing lease, how often to look at it again. */
const WAIT_POLL_MS = 1000;

/** What a lease item says about its holder. */
export interface LeaseHolder {
  job: string;
  owner: string;
  asOf?: Instant;
  acquiredAt: Instant;
  heartbeatAt: Instant;
  expiresAtMs: number;
}

export type LeaseState = 'held' | 'lapsed';

/** `held` while the holder's heartbeat is fresh (its lease has not expired), `lapsed` after. */
export const leaseState = (holder: LeaseHolder, now: DateTime): LeaseState =>
  now.toMillis() < holder.expiresAtMs ? 'held' : 'lapsed';

/** "held by <owner>, heartbeat 25s ago, lapses at <instant>": the words operators see everywhere. */
export function describeHolder(holder: LeaseHolder, now: DateTime): string {
  const { heartbeatAgeMs, expiresAt, state } = leaseView(holder, now);
  const when = state === 'held' ? `lapses at ${expiresAt}` : `lapsed at ${expiresAt}`;
  return `held by ${holder.owner}, heartbeat ${Math.round(heartbeatAgeMs / 1000)}s ago, ${when}`;
}

export class LeaseHeldError extends Error {
  override name = 'LeaseHeldError';
  constructor(
    readonly holder: LeaseHolder,
    now: DateTime,
  ) {
    super(`job ${holder.job} is already running (lease ${describeHolder(holder, now)}); try again later`);
  }
}

/** The run's lease was taken over or released: it has stopped writing and did not finish. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

export interface Lease {
  owner: string;
  /** True once a renewal found another owner (or no lease), or the last renewal has lapsed. */
  readonly lost: boolean;
  /** Throws LeaseLostError once the lease is lost: called before everything the run sends. */
  assertHeld(): void;
  /** Stops the heartbeat and deletes the lease if it is still ours. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  ttlMs?: number;
  /** Who holds the lease, for people (e.g. `cli:<host>:<pid>`); a random suffix makes it unique. */
  owner?: string;
  asOf?: Instant;
  /**
   * Wait for a lease held by another run to lapse, calling this once with its holder; without it, a
   * held lease is refused at once. A holder whose heartbeat moves on while we wait is alive: refused.
   */
  onWait?: (holder: LeaseHolder) => void;
}

function holderOf(job: string, item: LeaseItem): LeaseHolder {
  return {
    job,
    owner: item.owner,
    asOf: item.asOf,
    acquiredAt: item.acquiredAt,
    heartbeatAt: item.heartbeatAt ?? item.acquiredAt,
    expiresAtMs: item.expiresAtMs,
  };
}

/** The job's lease as stored, or undefined when no run holds it. */
export async function readLease(deps: Deps, job: string): Promise<LeaseHolder | undefined> {
  const item = await getLease(deps, job);
  return item ? holderOf(job, item) : undefined;
}

const movedOn = (a: LeaseHolder, b: LeaseHolder) =>
  a.owner !== b.owner || a.heartbeatAt !== b.heartbeatAt || a.expiresAtMs !== b.expiresAtMs;

export async function acquireLease(deps: Deps, job: string, options: AcquireOptions = {}): Promise<Lease> {
  const ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  const owner = `${options.owner ?? 'run'}:${randomUUID().slice(0, 8)}`;
  let acquiredAt = formatInstant(deps.clock());
  /** Until when the lease is ours for certain: the expiry our last successful write set. */
  let confirmedUntilMs = 0;
  let lostReason: string | undefined;
  const markLost = (reason: string) => {
    lostReason = reason;
    deps.log.warn('job lease lost: the run stops writing', { job, owner, reason });
  };

  /** Writes the lease with a fresh expiry if it may; if not, says who holds it (if anyone). */
  const write = async (condition: 'take' | 'renew'): Promise<{ written: boolean; holder?: LeaseHolder }> => {
    const now = deps.clock();
    const expiresAtMs = now.toMillis() + ttlMs;
    const lease = {
      job,
      owner,
      asOf: options.asOf,
      acquiredAt,
      heartbeatAt: formatInstant(now),
      expiresAtMs,
    };
    // Take: free, lapsed, or already ours. Renew: still ours.
    const result =
      condition === 'take' ? await takeLease(deps, lease, now.toMillis()) : await renewLease(deps, lease);
    if (result.written) {
      confirmedUntilMs = expiresAtMs;
      return { written: true };
    }
    return { written: false, holder: result.current ? holderOf(job, result.current) : undefined };
  };

  let waitedFor: LeaseHolder | undefined;
  for (;;) {
    acquiredAt = formatInstant(deps.clock());
    const { written, holder } = await write('take');
    if (written) break;
    if (!holder) continue; // released between the condition and its check: try again
    if (!options.onWait || (waitedFor && movedOn(waitedFor, holder))) {
      throw new LeaseHeldError(holder, deps.clock());
    }
    if (!waitedFor) options.onWait(holder);
    waitedFor = holder;
    // Look again until the lease lapses or is released; a heartbeat meanwhile means a live holder.
    for (;;) {
      await sleep(Math.min(WAIT_POLL_MS, Math.max(10, holder.expiresAtMs - deps.clock().toMillis() + 10)));
      const current = await readLease(deps, job);
      if (!current || leaseState(current, deps.clock()) === 'lapsed') break;
      if (movedOn(holder, current)) throw new LeaseHeldError(current, deps.clock());
    }
  }

  // The heartbeat: renewed only while the lease is still ours (fencing).
  let beating: Promise<void> | undefined;
  const beat = async () => {
    if (beating || lostReason) return;
    beating = (async () => {
      try {
        const { written, holder } = await write('renew');
        if (!written) markLost(holder ? `taken over by ${holder.owner}` : 'released');
      } catch (error) {
        // Tried again at the next beat; assertHeld fences the run once the lease has lapsed.
        deps.log.warn('lease renewal failed; trying again', { job, owner, error: String(error) });
      } finally {
        beating = undefined;
      }
    })();
    await beating;
  };
  const heartbeat = setInterval(() => void beat(), heartbeatInterval(ttlMs));
  heartbeat.unref(); // never keeps a process alive

  const check = () => {
    if (!lostReason && deps.clock().toMillis() >= confirmedUntilMs) {
      markLost(`not renewed since it lapsed at ${formatInstant(DateTime.fromMillis(confirmedUntilMs))}`);
    }
    if (lostReason) clearInterval(heartbeat);
    return lostReason;
  };
  return {
    owner,
    get lost() {
      return check() !== undefined;
    },
    assertHeld() {
      const reason = check();
      if (reason) {
        throw new LeaseLostError(`lease of job ${job} lost (${reason}); this run stopped writing`);
      }
    },
    release: async () => {
      clearInterval(heartbeat);
      await beating;
      lostReason ??= 'released by its run'; // whatever of the run is still in flight sends nothing more
      await deleteLease(deps, job, owner); // false when taken over: not ours to delete
    },
  };
}

/** A lease as `leases list` shows it. */
export interface LeaseView {
  job: string;
  owner: string;
  asOf?: Instant;
  acquiredAt: Instant;
  heartbeatAt: Instant;
  expiresAt: Instant;
  state: LeaseState;
  heartbeatAgeMs: number;
}

export function leaseView(holder: LeaseHolder, now: DateTime): LeaseView {
  return {
    job: holder.job,
    owner: holder.owner,
    asOf: holder.asOf,
    acquiredAt: holder.acquiredAt,
    heartbeatAt: holder.heartbeatAt,
    expiresAt: formatInstant(DateTime.fromMillis(holder.expiresAtMs)),
    state: leaseState(holder, now),
    heartbeatAgeMs: Math.max(0, now.toMillis() - parseInstant(holder.heartbeatAt).toMillis()),
  };
}

export type ReleaseOutcome =
  | { job: string; released: false; reason: 'no lease' }
  | { job: string; released: true; owner: string; state: LeaseState; forced: boolean };

/**
 * Deletes a job's lease for an operator: a lapsed one always, a held one (its holder's heartbeat is
 * fresh) only with `force` — its run then loses the lease at its next heartbeat and stops writing.
 */
export async function releaseLease(deps: Deps, job: string, force: boolean): Promise<ReleaseOutcome> {
  const holder = await readLease(deps, job);
  if (!holder) return { job, released: false, reason: 'no lease' };
  const now = deps.clock();
  const state = leaseState(holder, now);
  if (state === 'held' && !force) {
    throw new ConflictError(
      `lease of ${job} is ${describeHolder(holder, now)}: its run is alive; wait for it, or use --force if you know its process is dead`,
    );
  }
  // Only the lease we looked at: a run that took it over (or renewed it) meanwhile keeps it.
  if (!(await deleteLease(deps, job, holder.owner, holder.expiresAtMs))) {
    throw new ConflictError(`lease of ${job} changed while releasing it; look again (leases list)`);
  }
  return { job, released: true, owner: holder.owner, state, forced: state === 'held' };
}
