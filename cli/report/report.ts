// Drawing the report: read the stored state for a range, render the page, write it, and say what it
// shows. The `report` command and the demo (at its end) both draw through here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JobName } from '../../shared/jobs/registry';
import type { CalendarDate } from '../../shared/time';
import { formatInstant } from '../../shared/time';
import type { Store } from '../store';
import { noticeSinkPath } from '../store';
import { renderReport } from './chart';
import { type ReportData, type RunState, readReport } from './state';

export interface DrawnReport {
  path: string;
  from: CalendarDate;
  to: CalendarDate;
  range: ReportData['range'];
  days: number;
  read: ReportData['read'];
  /** Each job's scheduled occurrences in the range, by how they went. */
  runs: Record<JobName, Partial<Record<RunState, number>>>;
  /** Notices in the range, by type. */
  notices: Record<string, number>;
}

export async function drawReport(
  store: Store,
  range: { from?: CalendarDate; to?: CalendarDate },
  path: string,
  options: { title?: string; snsTopicArn?: string } = {},
): Promise<DrawnReport> {
  // The local sink holds what was delivered locally (first what the stream still holds); in AWS, or
  // with notices going to SNS_TOPIC_ARN, there is none to read.
  await store.deliverNotices();
  const sinkPath = store.target === 'local' && !options.snsTopicArn ? noticeSinkPath(store.home) : undefined;
  const data = await readReport(store.deps, {
    ...range,
    ...(sinkPath ? { sinkPath } : {}),
    now: formatInstant(store.deps.clock()),
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderReport(data, options.title));
  const runs = {} as DrawnReport['runs'];
  for (const [job, days] of Object.entries(data.runs) as [JobName, ReportData['runs'][JobName]][]) {
    const counts: Partial<Record<RunState, number>> = {};
    for (const d of days) counts[d.state] = (counts[d.state] ?? 0) + 1;
    runs[job] = counts;
  }
  const notices: Record<string, number> = {};
  for (const [type, series] of Object.entries(data.notices)) {
    const total = series.reduce((a, b) => a + b, 0);
    if (total > 0) notices[type] = total;
  }
  return {
    path,
    from: data.from,
    to: data.to,
    range: data.range,
    days: data.days.length,
    read: data.read,
    runs,
    notices,
  };
}
