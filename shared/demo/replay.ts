// The demo: generate a population, import it through the real import path, then replay the days
// in the order the schedules fire (00:00 activate, violations as they happen, 23:59 expire).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { ConflictError } from '../errors';
import { occurrenceOn } from '../jobs/input';
import { type RunReport, runJob } from '../jobs/run';
import { importMerchants } from '../merchants/import';
import { revokePromotion } from '../merchants/record';
import type { Promotion } from '../promotion/lifecycle';
import { merchantPk, PROMOTION_SK } from '../store/keys';
import { type CalendarDate, daysBetween, formatInstant, startOfDay } from '../time';
import { generatePopulation } from './population';

export interface ReplayOptions {
  from: CalendarDate;
  to: CalendarDate;
  merchants: number;
  seed: number;
  home: string;
}

export interface DaySummary {
  day: CalendarDate;
  transitions: Record<string, number>;
}

export interface ReplaySummary {
  from: CalendarDate;
  to: CalendarDate;
  merchants: number;
  seed: number;
  imported: { created: number; updated: number; unchanged: number };
  runs: number;
  transitions: Record<string, number>;
  revocations: { revoked: number; unchanged: number; refused: number };
  statuses: Record<string, number>;
  days: DaySummary[];
  /** True when this replay changed nothing: the range was already replayed with this population. */
  alreadyReplayed: boolean;
  durationMs: number;
}

function add(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export async function replay(
  deps: Deps,
  options: ReplayOptions,
  onDay: (index: number, total: number, day: DaySummary) => void = () => {},
): Promise<ReplaySummary> {
  const started = Date.now();
  const population = generatePopulation({
    merchants: options.merchants,
    seed: options.seed,
    onboardFrom: '2020-04-25',
    onboardTo: '2020-09-30',
  });
  const dir = join(options.home, 'demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `merchants-seed${options.seed}-n${options.merchants}.jsonl`);
  writeFileSync(file, `${population.records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const imported = await importMerchants(deps, file, 'jsonl');

  const summary: ReplaySummary = {
    from: options.from,
    to: options.to,
    merchants: options.merchants,
    seed: options.seed,
    imported: { created: imported.created, updated: imported.updated, unchanged: imported.unchanged },
    runs: 0,
    transitions: {},
    revocations: { revoked: 0, unchanged: 0, refused: 0 },
    statuses: {},
    days: [],
    alreadyReplayed: false,
    durationMs: 0,
  };
  const days = daysBetween(options.from, options.to);
  const runOnce = async (job: 'activate' | 'expire', day: CalendarDate): Promise<RunReport> => {
    const [report] = await runJob(deps, job, { kind: 'asOf', asOf: occurrenceOn(job, day), dryRun: false });
    summary.runs++;
    return report as RunReport;
  };
  for (const [index, day] of days.entries()) {
    const transitions: Record<string, number> = {};
    add(transitions, (await runOnce('activate', day)).transitions);
    const dayStart = formatInstant(startOfDay(day));
    const dayEnd = formatInstant(startOfDay(day).plus({ days: 1 }));
    for (const v of population.violations.filter((x) => x.at >= dayStart && x.at < dayEnd)) {
      try {
        const result = await revokePromotion(deps, v.merchantId, v.at, v.reason);
        summary.revocations[result.changed ? 'revoked' : 'unchanged']++;
        if (result.changed) transitions.REVOKED = (transitions.REVOKED ?? 0) + 1;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        summary.revocations.refused++; // e.g. a merchant onboarded before the program start
      }
    }
    add(transitions, (await runOnce('expire', day)).transitions);
    add(summary.transitions, transitions);
    const daySummary = { day, transitions };
    summary.days.push(daySummary);
    onDay(index, days.length, daySummary);
  }
  summary.statuses = await statusCounts(
    deps,
    population.records.map((r) => r.merchantId),
  );
  summary.alreadyReplayed =
    imported.created + imported.updated === 0 &&
    Object.keys(summary.transitions).length === 0 &&
    summary.revocations.revoked === 0;
  summary.durationMs = Date.now() - started;
  return summary;
}

/** Counts the promotions of the given merchants by status (BatchGetItem, 100 keys a request). */
async function statusCounts(deps: Deps, merchantIds: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < merchantIds.length; i += 100) {
    let keys: Record<string, unknown>[] = merchantIds
      .slice(i, i + 100)
      .map((id) => ({ pk: merchantPk(id), sk: PROMOTION_SK }));
    while (keys.length > 0) {
      const result = await deps.db.send(
        new BatchGetCommand({
          RequestItems: {
            [deps.tableName]: {
              Keys: keys,
              ProjectionExpression: '#s',
              ExpressionAttributeNames: { '#s': 'status' },
            },
          },
        }),
      );
      for (const item of result.Responses?.[deps.tableName] ?? []) {
        const status = (item as Pick<Promotion, 'status'>).status;
        counts[status] = (counts[status] ?? 0) + 1;
      }
      keys = result.UnprocessedKeys?.[deps.tableName]?.Keys ?? [];
    }
  }
  return counts;
}
