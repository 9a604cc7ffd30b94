// The report's page in a real headless browser (Debian's chromium through puppeteer-core), drawn by
// `report` from a small stored state on DynamoDB Local, over its own range, a year and ten years: it
// loads with no console or page error and asks for nothing over the network, no two labels of an axis
// (nor two date labels, nor two legend entries) overlap, and the legend sits at the top of its chart.
// A screenshot is written to .promo-jobs/chart-screenshot.png (a CI artifact). Without chromium the
// test fails, saying how to install it: a chart nobody looked at is not tested.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { seedReportState } from '../support/report-state';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../.promo-jobs');
const db = useLocalDynamo();

let browser: Browser | undefined;
beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium, as .ci/run does) or set CHROMIUM_PATH`,
    );
  browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
});
afterAll(async () => {
  await browser?.close();
});

interface Box {
  text: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** What the page shows, measured by the browser: each group of labels, the legend, the chart, the first panel. */
interface Measured {
  groups: Record<string, Box[]>;
  legend: Box | null;
  chart: Box | null;
  firstPanel: Box | null;
}

function overlaps(boxes: readonly Box[]): string[] {
  const found: string[] = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i] as Box;
      const b = boxes[j] as Box;
      if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
        found.push(`${JSON.stringify(a.text)} overlaps ${JSON.stringify(b.text)}`);
    }
  return found;
}

async function inspect(path: string, screenshot?: string): Promise<{ errors: string[]; measured: Measured }> {
  if (!browser) throw new Error('no browser');
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn')
      errors.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${String(error)}`));
  page.on('request', (request) => {
    if (!request.url().startsWith('file:') && !request.url().startsWith('data:'))
      errors.push(`network request: ${request.url()}`);
  });
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  const measured = await page.evaluate(() => {
    const box = (el: Element | null) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return {
        text: (el.textContent ?? '').slice(0, 60),
        left: r.left,
        right: r.right,
        top: r.top,
        bottom: r.bottom,
      };
    };
    const groups: Record<string, ReturnType<typeof box>[]> = {};
    for (const axis of document.querySelectorAll('g.axis'))
      groups[`axis ${axis.getAttribute('data-axis')}`] = [...axis.querySelectorAll('text')].map(box);
    groups.markers = [...document.querySelectorAll('g.markers text')].map(box);
    groups.legend = [...document.querySelectorAll('g.legend-item')].map(box);
    groups['panel titles and y labels'] = [
      ...document.querySelectorAll('text.panel-title'),
      ...document.querySelectorAll('g.axis:not([data-axis="x"]) text'),
    ].map(box);
    return {
      groups,
      legend: box(document.querySelector('g.legend')),
      chart: box(document.querySelector('svg.chart')),
      firstPanel: box(document.querySelector('g.panel rect')),
    };
  });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  await page.close();
  return { errors, measured: measured as Measured };
}

describe('the report page in a headless browser', () => {
  it('loads cleanly, no labels overlap, the legend tops its chart; a screenshot is kept', async () => {
    const { cli, file, home } = cliOn(db, TEST_TABLE);
    await db.reset();
    await seedReportState(db.deps(), cli, file);
    const ranges: [string, string[]][] = [
      ['stored', []],
      ['year', ['--from', '2020-01-01', '--to', '2020-12-31']],
      ['decade', ['--from', '2015-01-01', '--to', '2024-12-31']],
    ];
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [name, range] of ranges) {
      const out = join(home, `${name}.html`);
      const drawn = await cli('report', ...range, '--out', out);
      expect(drawn.status, drawn.stderr).toBe(0);
      const shot = join(
        ARTIFACTS,
        name === 'stored' ? 'chart-screenshot.png' : `chart-screenshot-${name}.png`,
      );
      const { errors, measured } = await inspect(out, shot);
      expect(errors, name).toEqual([]);
      expect(existsSync(shot)).toBe(true);
      const x = measured.groups['axis x'] ?? [];
      expect(x.length, `${name}: day-axis labels`).toBeGreaterThanOrEqual(2);
      expect(Object.keys(measured.groups).filter((g) => g.startsWith('axis y-')).length).toBeGreaterThan(1);
      for (const [group, boxes] of Object.entries(measured.groups))
        expect(overlaps(boxes), `${name}: ${group}`).toEqual([]);
      // Every label inside the chart, the legend at its top: inside it, right above the first panel.
      const chart = measured.chart as Box;
      const legend = measured.legend as Box;
      const panel = measured.firstPanel as Box;
      for (const boxes of Object.values(measured.groups))
        for (const b of boxes) {
          expect(b.left, `${name}: ${b.text}`).toBeGreaterThanOrEqual(chart.left - 0.5);
          expect(b.right, `${name}: ${b.text}`).toBeLessThanOrEqual(chart.right + 0.5);
        }
      expect(legend.top).toBeGreaterThanOrEqual(chart.top);
      expect(legend.bottom).toBeLessThanOrEqual(panel.top);
      expect(panel.top - legend.bottom, `${name}: legend to first panel`).toBeLessThan(160);
    }
  }, 300_000);
});
