// Model-based fault injection, CI-sized. `npm run reliability` runs the same property longer and
// writes docs/reliability.md. A failing case prints its seed and path, and fast-check shrinks it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { CI_FAULTS, emptyStats, runScenario, scenarioArbitrary } from './harness';

const db = useLocalDynamo();

describe('model-based fault injection', () => {
  it('after every random schedule with faults, once recovered, the state equals the model and every notice arrived', async () => {
    const stats = emptyStats();
    const env = { endpoint: db.endpoint, tableName: TEST_TABLE, reset: () => db.reset() };
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(CI_FAULTS), async (scenario) => {
        const problems = await runScenario(env, scenario, stats);
        expect(problems).toEqual([]);
      }),
      { numRuns: Number(process.env.FAULT_RUNS ?? 8), endOnFailure: false, verbose: 1 },
    );
    // The run really injected faults and checked things.
    expect(stats.invariants).toBeGreaterThan(50);
    expect(Object.values(stats.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  }, 600_000);
});
