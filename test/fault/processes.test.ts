// The CI-sized run of the real-process faults (the published run is `npm run reliability`): the CLI
// killed with SIGKILL at random points and started concurrently, then compared with the model.
import { expect, it } from 'vitest';
import { PROCESS_FAULTS, runProcessFaults } from './processes';

it('the CLI, killed with SIGKILL at random points and run concurrently, ends as the model says, each notice once', async () => {
  // A fixed seed, so that CI runs the same kills every time; `npm run reliability` draws new ones.
  const seed = Number(process.env.PROCESS_SEED ?? 20261202);
  console.log(`process faults: seed ${seed} (PROCESS_SEED=${seed} repeats it)`);
  const stats = await runProcessFaults({ ...PROCESS_FAULTS, seed, merchants: 40, days: 14 });
  const kills = Object.values(stats.killed).reduce((a, b) => a + b, 0);
  const summary = `seed ${seed}: ${JSON.stringify({ ...stats, problems: stats.problems.length })}`;
  expect(stats.problems.slice(0, 20), summary).toEqual([]);
  // Only kills that reached a running process count; with these rates a run without any is broken.
  expect(kills, summary).toBeGreaterThanOrEqual(3);
  expect(stats.noticesExpected, summary).toBeGreaterThan(50);
  expect(stats.noticesDelivered - stats.duplicates, summary).toBe(stats.noticesExpected);
  // Programs were exercised: seed-plan enrolments, and the program announced mid-way enrolled merchants.
  expect(stats.enrolments.SEED_PLAN_2020 ?? 0, summary).toBeGreaterThan(10);
  expect(stats.lateEnrolments, summary).toBeGreaterThan(3);
}, 600_000);
