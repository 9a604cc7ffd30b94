// Model-based fault injection, CI-sized. `npm run reliability` runs the same property longer and
// writes docs/reliability.md. A failing case prints its seed and path, and fast-check shrinks it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import {
  CI_FAULTS,
  emptyStats,
  type FaultKind,
  type FaultRates,
  LATE_PROGRAM,
  runScenario,
  type Step,
  scenarioArbitrary,
} from './harness';

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
    // Schedules are random: more are added while the programs' cases have not all happened either.
    const programsUnexercised = () => !stats.enrolments.SEED_PLAN_2020 || !stats.lateEnrolments;
    for (
      let runs = RUNS;
      stats.scenarios === 0 ||
      ((missing().length > 0 || programsUnexercised()) && stats.scenarios < MAX_RUNS);
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
    expect(stats.enrolments.SEED_PLAN_2020 ?? 0).toBeGreaterThan(0);
    expect(stats.lateEnrolments).toBeGreaterThan(0);
  }, 600_000);
});

describe('the fault model on a fixed schedule of program cases', () => {
  it('revoked then moved out of the seed plan, moved out and back in, a late program over and open: as the model says', async () => {
    const noFaults: FaultRates = { ...CI_FAULTS };
    for (const kind of Object.keys(noFaults) as FaultKind[]) noFaults[kind] = 0;
    const sh = (day: string, time = '00:00') => `${day}T${time}:00.000+08:00`;
    const days = ['2020-07-05', '2020-07-06', '2020-07-07', '2020-07-08'];
    const extra: Record<string, Step[]> = {
      '2020-07-05': [
        { kind: 'revoke', merchantId: 'f-0', at: sh('2020-07-05', '12:00'), reason: 'fake orders' },
        { kind: 'correct', merchantId: 'f-1', categories: ['food'] },
      ],
      '2020-07-06': [
        { kind: 'correct', merchantId: 'f-0', categories: [] },
        { kind: 'correct', merchantId: 'f-1', categories: ['home', 'food'] },
      ],
    };
    const steps: Step[] = days.flatMap((day): Step[] => [
      ...(day === '2020-07-06'
        ? [
            {
              kind: 'announce' as const,
              program: {
                programId: LATE_PROGRAM,
                from: '2020-06-01',
                categories: ['food'],
                startOffsetDays: 0,
                lengthDays: 5,
              },
            },
          ]
        : []),
      { kind: 'run', job: 'activate', asOf: sh(day), mode: 'normal' },
      ...(extra[day] ?? []),
      { kind: 'run', job: 'expire', asOf: sh(day, '23:59'), mode: 'normal' },
      { kind: 'deliver' },
    ]);
    const stats = emptyStats();
    const problems = await runScenario(
      { endpoint: db.endpoint, tableName: TEST_TABLE, reset: () => db.reset() },
      {
        merchants: [
          { merchantId: 'f-0', onboardedOn: '2020-07-01', liveThirdParty: false, categories: ['apparel'] },
          {
            merchantId: 'f-1',
            onboardedOn: '2020-07-02',
            liveThirdParty: false,
            categories: ['home', 'food'],
          },
          { merchantId: 'f-2', onboardedOn: '2020-06-20', liveThirdParty: false, categories: ['food'] },
          { merchantId: 'f-3', onboardedOn: '2020-07-04', liveThirdParty: false, categories: ['food'] },
        ],
        policies: [],
        steps,
        faults: noFaults,
        seed: 1,
      },
      stats,
    );
    expect(problems).toEqual([]);
    expect(stats.enrolments).toEqual({ NEW_MERCHANT_FEE: 4, SEED_PLAN_2020: 2, FOOD_LATE: 3 });
    expect(stats.lateEnrolments).toBe(3); // all three food merchants, by the activate run after the announcement
  }, 120_000);
});
