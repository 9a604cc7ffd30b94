// Model-based fault injection, CI-sized. `npm run reliability` runs the same property longer and
// writes docs/reliability.md. A failing case prints its seed and path, and fast-check shrinks it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { CI_FAULTS, emptyStats, type FaultKind, runScenario, scenarioArbitrary } from './harness';

const db = useLocalDynamo();
const RUNS = Number(process.env.FAULT_RUNS ?? 8);
/** Schedules added, a few at a time, while some kind of fault has not happened yet. */
const MAX_RUNS = 3 * RUNS;

describe('model-based fault injection', () => {
  it('after every random schedule with faults, once recovered, the state equals the model and every notice arrived', async () => {
    const stats = emptyStats();
    const env = { endpoint: db.endpoint, tableName: TEST_TABLE, reset: () => db.reset() };
    const kinds = (Object.keys(CI_FAULTS) as FaultKind[]).filter((kind) => CI_FAULTS[kind] > 0);
    const missing = () => kinds.filter((kind) => !stats.injected[kind]);
    for (
      let runs = RUNS;
      stats.scenarios === 0 || (missing().length > 0 && stats.scenarios < MAX_RUNS);
      runs = 4
    ) {
      await fc.assert(
        fc.asyncProperty(scenarioArbitrary(CI_FAULTS), async (scenario) => {
          const problems = await runScenario(env, scenario, stats);
          expect(problems).toEqual([]);
        }),
        { numRuns: runs, endOnFailure: false, verbose: 1 },
      );
    }
    // The run checked things, and every kind of fault switched on really happened (not just armed).
    expect(stats.invariants).toBeGreaterThan(50);
    expect(missing()).toEqual([]);
    expect(stats.redeliveries).toBeGreaterThan(0);
    // Programs were exercised: seed-plan enrolments, and enrolments a program announced mid-schedule gave.
    console.log(`fault schedules: ${JSON.stringify(stats)}`);
    expect(stats.enrolments.SEED_PLAN_2020 ?? 0).toBeGreaterThan(
      (stats.enrolments.NEW_MERCHANT_FEE ?? 0) / 3,
    );
    expect(stats.lateEnrolments).toBeGreaterThan(0);
  }, 600_000);
});
