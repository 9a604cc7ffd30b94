// The schedules as synthesized, read the way `schedules list|describe` reads them: each job's
// AWS::Scheduler::Schedule is found by the names of infra/job-deployment.ts, and its ScheduleExpression
// and ScheduleExpressionTimezone, converted for cron-parser (cli/schedules/cron.ts), fire at the
// registry's hour and minute in Asia/Shanghai whatever the host's time zone.
import { App } from 'aws-cdk-lib';
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { fireInstants } from '../../cli/schedules/cron';
import {
  DEFAULT_STAGE,
  failureQueueName,
  RUN_MAX_AGE_SECONDS,
  SCHEDULER_RETRY_ATTEMPTS,
  scheduleDescription,
  scheduleGroupName,
  scheduleName,
  stagePrefix,
} from '../../infra/job-deployment';
import { resolveStage } from '../../infra/stage';
import { JOB_NAMES, JOBS } from '../../shared/jobs/registry';
import { ZONE } from '../../shared/time';
import { asText, resourcesOfType, synth } from './support';

const { template } = synth(); // stage `test`
const PREFIX = stagePrefix('test');
const schedules = Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule')).map(
  (r) => r.Properties ?? {},
);
const queues = resourcesOfType(template, 'AWS::SQS::Queue');

/** The synthesized schedule of a job, found by the name the CLI asks GetSchedule for. */
function scheduleOf(job: (typeof JOB_NAMES)[number]) {
  const found = schedules.filter((s) => s.Name === scheduleName(PREFIX, job));
  expect(found, job).toHaveLength(1);
  return found[0] as Record<string, unknown>;
}

const HOST_ZONES = [
  'UTC',
  'America/New_York',
  'Asia/Shanghai',
  'Pacific/Kiritimati',
  'America/St_Johns',
  'Europe/London',
];
/** Instants to look ahead from: around US and UK DST changes, midnight in Shanghai, a fire instant itself. */
const NOWS = [
  '2026-03-08T06:30:00Z', // US DST starts
  '2026-11-01T05:30:00Z', // US DST ends
  '2026-03-29T00:30:00Z', // UK DST starts
  '2026-12-01T16:00:00Z', // 00:00 in Shanghai: activate fires exactly now
  '2026-12-01T15:59:59.999Z',
  '2026-12-02T15:59:00Z', // 23:59 in Shanghai: expire fires exactly now
  '2028-02-28T18:00:00Z', // a leap day follows in Shanghai
];

const original = process.env.TZ;
afterEach(() => {
  if (original === undefined) delete process.env.TZ;
  else process.env.TZ = original;
});

describe('the synthesized schedules, as the schedules commands read them', () => {
  it('are found by the shared names: one per job, in the stage group, dead-lettering to its failure queue', () => {
    const groups = Object.values(resourcesOfType(template, 'AWS::Scheduler::ScheduleGroup'));
    expect(groups.map((g) => g.Properties?.Name)).toEqual([scheduleGroupName(PREFIX)]);
    expect(schedules).toHaveLength(JOB_NAMES.length);
    for (const job of JOB_NAMES) {
      const schedule = scheduleOf(job);
      expect(schedule.GroupName).toBe(scheduleGroupName(PREFIX));
      expect(schedule.Description).toBe(scheduleDescription(job));
      const target = schedule.Target as Record<string, Record<string, unknown>>;
      expect(target.RetryPolicy).toEqual({
        MaximumRetryAttempts: SCHEDULER_RETRY_ATTEMPTS,
        MaximumEventAgeInSeconds: RUN_MAX_AGE_SECONDS,
      });
      const dlq = asText(target.DeadLetterConfig?.Arn).replace(/\.Arn$/, '');
      expect(queues[dlq]?.Properties?.QueueName, job).toBe(failureQueueName(PREFIX, job));
    }
  });

  it("name the stage's resources with the prefix the stage settings give (the CLI's default stage is infra's)", () => {
    expect(resolveStage(new App().node, {}).prefix).toBe(stagePrefix(DEFAULT_STAGE));
    expect(resolveStage(new App({ context: { stage: 'prod' } }).node, {}).prefix).toBe(stagePrefix('prod'));
  });

  it("fire at the registry's hour and minute in Asia/Shanghai, once a day, in every host zone", () => {
    for (const zone of HOST_ZONES) {
      process.env.TZ = zone;
      for (const job of JOB_NAMES) {
        const schedule = scheduleOf(job);
        const { hour, minute } = JOBS[job].schedule;
        for (const now of NOWS) {
          const after = DateTime.fromISO(now, { setZone: true });
          const fires = fireInstants(
            String(schedule.ScheduleExpression),
            String(schedule.ScheduleExpressionTimezone),
            after,
            3,
          );
          const where = `${job} after ${now} with TZ=${zone}`;
          expect(fires, where).toHaveLength(3);
          const local = fires.map((f) => DateTime.fromISO(f, { zone: ZONE }));
          for (const at of local) {
            expect(
              { hour: at.hour, minute: at.minute, second: at.second, ms: at.millisecond },
              where,
            ).toEqual({
              hour,
              minute,
              second: 0,
              ms: 0,
            });
          }
          // The first is strictly after now, and within a day; the next ones a day apart (no DST in Shanghai).
          const first = local[0] as DateTime;
          expect(first.toMillis(), where).toBeGreaterThan(after.toMillis());
          expect(first.toMillis() - after.toMillis(), where).toBeLessThanOrEqual(24 * 3600_000);
          expect(
            local.map((at, i) => (i === 0 ? 0 : at.toMillis() - (local[i - 1] as DateTime).toMillis())),
            where,
          ).toEqual([0, 24 * 3600_000, 24 * 3600_000]);
        }
      }
    }
  });
});
