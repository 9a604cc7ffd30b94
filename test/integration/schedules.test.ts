// `schedules list|describe|pause` locally, through the CLI, on a real DynamoDB Local: the registry's
// schedules (state NO_SCHEDULER: nothing fires here), the next fire instants whatever the host's zone,
// and the latest recorded run of each job.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordRun } from '../../shared/store/job-runs';
import { cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();
const { cli } = cliOn(db, TEST_TABLE);
beforeEach(() => db.reset());

const original = process.env.TZ;
afterEach(() => {
  if (original === undefined) delete process.env.TZ;
  else process.env.TZ = original;
});

const report = (asOf: string, extra: Record<string, unknown> = {}) => ({
  dryRun: false,
  complete: true,
  examined: 2,
  changed: 1,
  alreadyDone: 1,
  failed: 0,
  transitions: { ACTIVE: 1 },
  failures: [],
  startedAt: asOf,
  finishedAt: asOf,
  durationMs: 2000,
  ...extra,
});

describe('schedules, locally', () => {
  it("list: the registry's schedules, NO_SCHEDULER, the next fire instant and the latest recorded run", async () => {
    const deps = db.deps();
    await recordRun(deps, {
      job: 'activate',
      asOf: '2026-11-30T00:00:00.000+08:00',
      report: report('2026-11-30T00:00:00.000+08:00'),
    });
    await recordRun(deps, {
      job: 'activate',
      asOf: '2026-12-01T00:00:00.000+08:00',
      report: report('2026-12-01T00:00:00.000+08:00', { failed: 2, complete: false }),
    });
    await recordRun(deps, {
      job: 'expire',
      asOf: '2026-11-29T23:59:00.000+08:00',
      report: report('2026-11-29T23:59:00.000+08:00'),
    });

    const result = await cli('schedules', 'list', '--at', '2026-12-02T09:30:00+08:00');
    expect(result.status).toBe(0);
    expect(result.json).toEqual([
      {
        job: 'activate',
        expression: 'cron(0 0 * * ? *)',
        timeZone: 'Asia/Shanghai',
        state: 'NO_SCHEDULER',
        nextFireAt: '2026-12-03T00:00:00.000+08:00',
        lastRun: {
          asOf: '2026-12-01T00:00:00.000+08:00',
          complete: false,
          examined: 2,
          changed: 1,
          failed: 2,
          startedAt: '2026-12-01T00:00:00.000+08:00',
          finishedAt: '2026-12-01T00:00:00.000+08:00',
          durationMs: 2000,
          attempts: 1,
        },
      },
      {
        job: 'expire',
        expression: 'cron(59 23 * * ? *)',
        timeZone: 'Asia/Shanghai',
        state: 'NO_SCHEDULER',
        nextFireAt: '2026-12-02T23:59:00.000+08:00',
        lastRun: expect.objectContaining({
          asOf: '2026-11-29T23:59:00.000+08:00',
          complete: true,
          failed: 0,
        }),
      },
      {
        job: 'cart-policies',
        expression: 'cron(0 0 * * ? *)',
        timeZone: 'Asia/Shanghai',
        state: 'NO_SCHEDULER',
        nextFireAt: '2026-12-03T00:00:00.000+08:00',
        lastRun: null,
      },
    ]);
  });

  it('list: the same next fire instants whatever the host zone, from --at or from the clock', async () => {
    const at = '2026-12-01T15:59:59.999Z'; // a millisecond before 00:00 in Shanghai
    const seen = new Set<string>();
    for (const zone of ['UTC', 'America/New_York', 'Asia/Shanghai', 'Pacific/Kiritimati']) {
      process.env.TZ = zone;
      const result = await cli('schedules', 'list', '--at', at);
      seen.add(JSON.stringify(result.json.map((e) => (e as { nextFireAt: string }).nextFireAt)));
    }
    expect([...seen]).toEqual([
      JSON.stringify([
        '2026-12-02T00:00:00.000+08:00',
        '2026-12-02T23:59:00.000+08:00',
        '2026-12-02T00:00:00.000+08:00',
      ]),
    ]);
    // Without --at: the first instant after the process clock.
    const before = Date.now();
    const now = await cli('schedules', 'list');
    for (const entry of now.json as { nextFireAt: string }[]) {
      const next = Date.parse(entry.nextFireAt);
      expect(next).toBeGreaterThan(before);
      expect(next - before).toBeLessThanOrEqual(24 * 3600_000);
    }
  });

  it('list --output table: one row per job', async () => {
    const result = await cli('schedules', 'list', '--output', 'table', '--at', '2026-12-02T09:30:00+08:00');
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^job\s+expression\s+timeZone\s+state\s+nextFireAt\s+lastRun$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(['activate', 'expire', 'cart-policies']);
  });

  it("describe: the next 5 instants, the stack's retry policy, the failure queue's name and why no depth", async () => {
    await recordRun(db.deps(), {
      job: 'expire',
      asOf: '2026-12-01T23:59:00.000+08:00',
      report: report('2026-12-01T23:59:00.000+08:00'),
    });
    const result = await cli(
      'schedules',
      'describe',
      'expire',
      '--at',
      '2026-12-02T23:59:00+08:00',
      '--stage',
      'prod',
    );
    expect(result.status).toBe(0);
    expect(result.json[0]).toEqual({
      job: 'expire',
      expression: 'cron(59 23 * * ? *)',
      timeZone: 'Asia/Shanghai',
      state: 'NO_SCHEDULER',
      nextFireAt: '2026-12-03T23:59:00.000+08:00',
      lastRun: expect.objectContaining({ asOf: '2026-12-01T23:59:00.000+08:00' }),
      nextFireAts: [3, 4, 5, 6, 7].map((d) => `2026-12-0${d}T23:59:00.000+08:00`),
      schedule: {
        name: 'promo-jobs-prod-expire',
        group: 'promo-jobs-prod',
        description: 'expire at 23:59 Asia/Shanghai every day',
      },
      retryPolicy: {
        maximumRetryAttempts: 20,
        maximumEventAgeInSeconds: 7200,
        lambdaRetryAttempts: 2,
        source: 'stack',
      },
      failureQueue: {
        name: 'promo-jobs-prod-expire-failures',
        url: null,
        depth: null,
        inFlight: null,
        reason: expect.stringContaining('no failure queue locally'),
      },
    });
  });

  it('a job that does not exist: exit 2, naming it', async () => {
    for (const command of ['describe', 'pause', 'resume']) {
      const result = await cli(
        'schedules',
        command,
        'activte',
        ...(command === 'pause' ? ['--reason', 'x'] : []),
      );
      expect(result.status, command).toBe(2);
      expect(result.stderr, command).toContain(
        '<job>: must be one of activate, expire, cart-policies (got activte)',
      );
    }
  });

  it('pause and resume: exit 2, there is no local scheduler (and how to run the job by hand)', async () => {
    const pause = await cli('schedules', 'pause', 'activate', '--reason', 'incident 42');
    expect(pause.status).toBe(2);
    expect(pause.stderr).toContain('error: there is no local scheduler');
    expect(pause.stderr).toContain('run activate --as-of <instant>');
    const resume = await cli('schedules', 'resume', 'activate');
    expect(resume.status).toBe(2);
    expect(resume.stderr).toContain('there is no local scheduler');
    const noReason = await cli('schedules', 'pause', 'activate', '--reason', '  ');
    expect(noReason.status).toBe(2);
    expect(noReason.stderr).toContain('--reason: must not be empty');
  });

  it('refuses a bad --at or --stage, naming it', async () => {
    const at = await cli('schedules', 'list', '--at', 'tomorrow');
    expect(at.status).toBe(2);
    expect(at.stderr).toContain('--at: must be an ISO 8601 instant');
    const stage = await cli('schedules', 'describe', 'activate', '--stage', 'Prod');
    expect(stage.status).toBe(2);
    expect(stage.stderr).toContain('--stage: must be 1-20 lower-case letters');
  });
});
