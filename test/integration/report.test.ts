// `report` on a stored state, against DynamoDB Local: what it reads (indexes and partitions, never a
// Scan), that its page holds the runs (ok, failed, incomplete, missing) and the program and policy
// dates it should, that its counts agree with what was delivered, and that running the same days again
// (as a second `npm start` does) leaves the chart as full as before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activeAtEndOf } from '../../cli/demo/replay';
import { readReport } from '../../cli/report/state';
import { noticeSinkPath } from '../../cli/store';
import { occurrenceOn } from '../../shared/jobs/input';
import { readEnrolments } from '../../shared/store/promotions';
import { ONBOARDED_INDEX } from '../../shared/store/table';
import { addDays, daysBetween } from '../../shared/time';
import { cliOn } from '../support/cli';
import { interceptSend, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { REPORT_STATE, seedReportState } from '../support/report-state';

const db = useLocalDynamo();

const { FROM, TO } = REPORT_STATE;

/** What `notices` lists (the local sink), counted by type. */
async function deliveredByType(cli: ReturnType<typeof cliOn>['cli']) {
  const listed = await cli('notices');
  const counts: Record<string, number> = {};
  for (const n of listed.json as { type: string }[]) counts[n.type] = (counts[n.type] ?? 0) + 1;
  return counts;
}

const count = (html: string, text: string) => html.split(text).length - 1;

describe('report', () => {
  it('on an empty table: nothing to draw without a range (exit 1), an empty page with one', async () => {
    await db.reset();
    const { cli } = cliOn(db, TEST_TABLE);
    const bare = await cli('report');
    expect(bare.status).toBe(1);
    expect(bare.stderr).toMatch(/nothing stored to draw.*--from and --to/);
    const ranged = await cli('report', '--from', '2020-05-01', '--to', '2020-05-31');
    expect(ranged.status).toBe(0);
    expect(ranged.json[0]).toMatchObject({
      from: '2020-05-01',
      to: '2020-05-31',
      range: 'options',
      days: 31,
    });
    const html = readFileSync((ranged.json[0] as { path: string }).path, 'utf8');
    expect(html).toContain('notices per day: none in this range');
    // No run recorded: every scheduled day up to now is missing.
    expect(count(html, 'class="run run-missing"')).toBe(31 * 3);
  });

  it('refuses bad dates and a reversed range, naming the option (exit 2)', async () => {
    const { cli } = cliOn(db, TEST_TABLE);
    const reversed = await cli('report', '--from', '2020-06-01', '--to', '2020-05-01');
    expect(reversed.status).toBe(2);
    expect(reversed.stderr).toMatch(/--to: must be on or after --from \(got 2020-05-01\)/);
    const bad = await cli('report', '--from', '2020-13-01');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--from: /);
    const long = await cli('report', '--from', '2000-01-01', '--to', '2020-01-01');
    expect(long.status).toBe(2);
    expect(long.stderr).toMatch(/--to: must be at most 3660 days from --from/);
  });

  it('draws a stored state: its range, runs, dates and notices, read without a Scan; a repeated run keeps it', async () => {
    await db.reset();
    const { cli, file, home } = cliOn(db, TEST_TABLE);
    const run = async (job: string, from: string, to: string) =>
      expect((await cli('run', job, '--from', from, '--to', to)).status).toBe(0);
    const { failedAt, stoppedAt } = await seedReportState(db.deps(), cli, file);
    const deps = db.deps();

    const delivered = await deliveredByType(cli);
    expect(delivered).toEqual({
      PROMOTION_ACTIVATED: 3,
      PROMOTION_REVOKED: 1,
      PROMOTION_ENDING_SOON: 1,
      PROMOTION_EXPIRED: 1,
      CART_POLICY_ANNOUNCED: 2,
      CART_POLICY_IN_FORCE: 2,
    });

    const first = await cli('report');
    expect(first.status).toBe(0);
    const drawn = first.json[0] as Record<string, unknown> & { path: string };
    expect(drawn).toMatchObject({
      path: join(home, 'report.html'),
      from: FROM,
      to: TO,
      range: 'stored',
      days: 36,
      read: { merchants: 3, enrolments: 3, jobRuns: 36 * 3 - 3, policies: 1, programs: 2, sinkNotices: 4 },
      runs: {
        activate: { ok: 35, failed: 1 },
        expire: { ok: 35, incomplete: 1 },
        'cart-policies': { ok: 33, missing: 3 },
      },
      // Promotion notices from the enrolments' histories, policy notices from the sink: as delivered.
      notices: delivered,
    });
    expect(first.stderr).toMatch(
      /report: 2020-05-06 … 2020-06-10 \(36 days.*3 scheduled runs missing, 2 failed or incomplete\)/,
    );
    const html = readFileSync(drawn.path, 'utf8');
    // The runs: each missing, failed or stopped occurrence is a cell of its own, and listed.
    expect(count(html, 'class="run run-missing"')).toBe(3);
    for (const day of ['2020-05-15', '2020-05-16', '2020-05-17'])
      expect(html).toContain(`cart-policies ${occurrenceOn('cart-policies', day)}: no run recorded`);
    expect(html).toContain(`<li class="run-problem">activate ${failedAt}: failed (2 items)</li>`);
    expect(html).toContain(`<li class="run-problem">expire ${stoppedAt}: incomplete</li>`);
    expect(count(html, 'class="run run-failed"')).toBe(1);
    expect(count(html, 'class="run run-incomplete"')).toBe(1);
    // The policy's dates; the program start is before the range, so it is not marked.
    expect(html).toContain('>05-20 test-xingtu-only announced<');
    expect(html).toContain('>06-01 live carts: XINGTU_ONLY<');
    expect(html).not.toContain('NEW_MERCHANT_FEE from');
    // A panel per notice type delivered.
    for (const type of Object.keys(delivered)) expect(html).toContain(`data-panel="notices-${type}"`);

    // A wider range marks the program's start too (and the days before the first run are missing).
    const wider = await cli('report', '--from', '2020-04-28', '--to', TO, '--out', join(home, 'wide.html'));
    expect(wider.json[0]).toMatchObject({
      from: '2020-04-28',
      range: 'options',
      runs: { activate: { missing: 8 } },
    });
    expect(readFileSync(join(home, 'wide.html'), 'utf8')).toContain('>05-01 NEW_MERCHANT_FEE from<');

    // What it reads: the onboarded index, partitions and keys; never a Scan. Active per day as the histories say.
    const commands: { name: string; index?: string }[] = [];
    const watched = db.deps({
      db: interceptSend(db.clients.doc, (command, send) => {
        const c = command as { constructor: { name: string }; input: { IndexName?: string } };
        commands.push({ name: c.constructor.name, index: c.input.IndexName });
        return send();
      }),
    });
    const data = await readReport(watched, {
      sinkPath: noticeSinkPath(home),
      now: '2026-11-25T10:00:00+08:00',
    });
    expect(commands.filter((c) => c.name === 'ScanCommand')).toEqual([]);
    expect(commands).toContainEqual({ name: 'QueryCommand', index: ONBOARDED_INDEX.indexName });
    const enrolments = (
      await Promise.all(REPORT_STATE.merchants.map((m) => readEnrolments(deps, m.merchantId)))
    ).flat();
    expect(data.activeByProgram.NEW_MERCHANT_FEE).toEqual(
      daysBetween(FROM, TO).map((day) => activeAtEndOf(day, enrolments)),
    );
    expect(data.activeByProgram.NEW_MERCHANT_FEE?.[data.days.indexOf(addDays('2020-05-06', 2))]).toBe(1);

    // The same days run again (what a second `npm start` does): nothing changes, the chart stays full.
    for (const job of ['activate', 'expire', 'cart-policies']) await run(job, FROM, TO);
    expect(await deliveredByType(cli)).toEqual(delivered);
    const again = await cli('report');
    expect(again.json[0]).toMatchObject({
      notices: delivered,
      runs: { activate: { ok: 36 }, expire: { ok: 36 }, 'cart-policies': { ok: 36 } },
    });
    const htmlAgain = readFileSync(drawn.path, 'utf8');
    expect(count(htmlAgain, 'class="notice-bar"')).toBe(count(html, 'class="notice-bar"'));
    expect(count(htmlAgain, 'class="notice-bar"')).toBeGreaterThan(0);
    expect(htmlAgain).toContain('>06-01 live carts: XINGTU_ONLY<');
  }, 300_000);
});
