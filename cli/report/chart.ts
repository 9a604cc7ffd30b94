// The report's picture: a self-contained HTML page (inline SVG and CSS, no script, no network) drawn
// from what cli/report/state.ts read. One SVG holds its legend, the program and policy dates (labels
// packed in rows so none overlap), a panel of active enrolments per program, one panel per notice
// type with its own scale (a spike in one never flattens another), and a strip per job showing each
// scheduled run: ok, failed, incomplete or missing. The day axis labels are thinned until they fit.

import { JOB_NAMES } from '../../shared/jobs/registry';
import { NOTICE_TYPES, type NoticeType } from '../../shared/notices/notice';
import type { ReportData, RunState } from './state';

const WIDTH = 1100;
const LEFT = 110;
const RIGHT = 40;
const PLOT_W = WIDTH - LEFT - RIGHT;
const FONT = 12;
/** Generous widths of a sans-serif label's characters at 12 px (upper case, lower case, digits, the rest), for packing them. */
const charWidth = (c: string) => (/[A-Z]/.test(c) ? 8.6 : /[a-z]/.test(c) ? 6.6 : /[0-9_]/.test(c) ? 7 : 4.8);
const ACTIVE_H = 150;
const NOTICE_H = 52;
const RUN_ROW_H = 12;

const NOTICE_COLOURS: Record<NoticeType, string> = {
  PROMOTION_ACTIVATED: '#2e7d32',
  PROMOTION_ENDING_SOON: '#f9a825',
  PROMOTION_EXPIRED: '#757575',
  PROMOTION_REVOKED: '#c62828',
  CART_POLICY_ANNOUNCED: '#1565c0',
  CART_POLICY_IN_FORCE: '#6a1b9a',
  CART_POLICY_WITHDRAWN: '#00838f',
  XINGTU_FEE_ANNOUNCED: '#ef6c00',
  XINGTU_FEE_IN_FORCE: '#4e342e',
  XINGTU_FEE_WITHDRAWN: '#9e9d24',
};

/** A colour per program, in the order the programs are listed (then repeating). */
const PROGRAM_COLOURS = ['#1b5e20', '#e65100', '#4527a0', '#00695c', '#ad1457'];

export const RUN_COLOURS: Record<RunState, string> = {
  ok: '#a5d6a7',
  failed: '#c62828',
  incomplete: '#ef6c00',
  missing: '#263238',
  'not-due': '#eeeeee',
};

const MARKER_COLOURS = { program: '#1b5e20', cart: '#c62828', fee: '#6d4c41' } as const;
type MarkerKind = keyof typeof MARKER_COLOURS;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
const f1 = (n: number) => n.toFixed(1);
const textWidth = (text: string, size = FONT) =>
  [...text].reduce((w, c) => w + charWidth(c), 0) * (size / FONT);

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

interface Tick {
  index: number;
  label: string;
  anchor: 'start' | 'middle';
}

/**
 * Day-axis ticks whose labels do not overlap: the finest of days, weeks, months, quarters and years
 * whose labels fit between neighbours, and the range's first day only if it leaves room.
 */
export function dayTicks(days: readonly string[], dayW: number): Tick[] {
  const gap = 12;
  type Level = {
    label: (d: string) => string;
    width: number;
    minDays: number;
    at: (d: string, i: number) => boolean;
  };
  const month = (d: string) => Number(d.slice(5, 7));
  const levels: Level[] = [
    ...[1, 2, 7, 14].map((k) => ({
      label: (d: string) => d.slice(5),
      width: textWidth('00-00'),
      minDays: k,
      at: (_d: string, i: number) => i % k === 0,
    })),
    ...[1, 2, 3, 6].map((k) => ({
      label: (d: string) => d.slice(0, 7),
      width: textWidth('0000-00'),
      minDays: 28 * k,
      at: (d: string) => d.endsWith('-01') && (month(d) - 1) % k === 0,
    })),
    ...[1, 2, 5, 10, 20, 50].map((k) => ({
      label: (d: string) => d.slice(0, 4),
      width: textWidth('0000'),
      minDays: 365 * k,
      at: (d: string) => d.endsWith('-01-01') && Number(d.slice(0, 4)) % k === 0,
    })),
  ];
  // Day labels only for ranges of up to three months; longer ones read better by month.
  const usable = levels.filter((l) => days.length <= 92 || l.minDays >= 28);
  const level = usable.find((l) => l.minDays * dayW >= l.width + gap) ?? (usable.at(-1) as Level);
  const ticks: Tick[] = days.flatMap((d, i) =>
    level.at(d, i) ? [{ index: i, label: level.label(d), anchor: 'middle' as const }] : [],
  );
  const first = days[0];
  if (first !== undefined && ticks[0]?.index !== 0) {
    const label = days.length > 0 && level.minDays >= 28 ? first : first.slice(5);
    const next = ticks[0];
    // The first day's label starts at the axis' left end; the next label is centred on its tick.
    const room =
      next === undefined || next.index * dayW - textWidth(next.label) / 2 >= textWidth(label) + gap;
    if (room) ticks.unshift({ index: 0, label, anchor: 'start' });
  }
  return ticks;
}

interface Marker {
  index: number;
  label: string;
  title: string;
  kind: MarkerKind;
}

function markersOf(data: ReportData): Marker[] {
  const index = new Map(data.days.map((d, i) => [d, i]));
  const oneYear = data.from.slice(0, 4) === data.to.slice(0, 4);
  const short = (day: string) => (oneYear ? day.slice(5) : day);
  const byKey = new Map<string, { day: string; kind: MarkerKind; parts: string[]; titles: string[] }>();
  const add = (day: string, kind: MarkerKind, part: string, title: string) => {
    if (!index.has(day)) return;
    const key = `${day}#${kind}`;
    const entry = byKey.get(key) ?? { day, kind, parts: [], titles: [] };
    entry.parts.push(part);
    entry.titles.push(title);
    byKey.set(key, entry);
  };
  const assumed = (flag: boolean) => (flag ? ' (date assumed)' : '');
  for (const p of data.programs) {
    add(
      p.from,
      'program',
      `${p.programId} from${assumed(p.dateAssumed)}`,
      `${p.programId} (${p.name}): merchants onboarded from ${p.from}`,
    );
    if (p.until)
      add(
        p.until,
        'program',
        `${p.programId} until`,
        `${p.programId}: merchants onboarded before ${p.until}`,
      );
  }
  const cartAnnounced = new Map<string, string[]>();
  for (const p of data.policies.filter((p) => p.status !== 'WITHDRAWN')) {
    if (p.kind === 'CART')
      cartAnnounced.set(p.announcedOn, [...(cartAnnounced.get(p.announcedOn) ?? []), p.policyId]);
    else {
      add(p.announcedOn, 'fee', `${p.policyId} announced`, `${p.policyId} (${p.title}) announced`);
      add(
        p.effectiveAt.slice(0, 10),
        'fee',
        `${p.policyId}${assumed(p.dateAssumed)}`,
        `${p.policyId} in force from ${p.effectiveAt}`,
      );
    }
  }
  for (const [day, ids] of cartAnnounced)
    add(
      day,
      'cart',
      ids.length === 1 ? `${ids[0]} announced` : `${ids.length} cart policies announced`,
      `announced: ${ids.join(', ')}`,
    );
  for (const f of data.flagTimeline.filter((f) => f.channel === 'live'))
    add(
      f.since.slice(0, 10),
      'cart',
      `live carts: ${f.value}`,
      `from ${f.since}: third-party products in live carts ${f.value} (${f.scope}; ${f.policyId})`,
    );
  return [...byKey.values()]
    .map((m) => ({
      index: index.get(m.day) as number,
      label: `${short(m.day)} ${m.parts.join(' · ')}`,
      title: m.titles.join('\n'),
      kind: m.kind,
    }))
    .sort((a, b) => a.index - b.index || a.kind.localeCompare(b.kind));
}

/** Rows for labels starting at `x`, each in the first row where it does not touch the one before. */
function packRows<T extends { x: number; width: number }>(
  items: readonly T[],
  gap = 8,
): (T & { row: number })[] {
  const ends: number[] = [];
  return items.map((item) => {
    let row = ends.findIndex((end) => end + gap <= item.x);
    if (row < 0) row = ends.length;
    ends[row] = item.x + item.width;
    return { ...item, row };
  });
}

function legendOf(entries: { swatch: string; label: string }[], y0: number): { svg: string; height: number } {
  const rowH = 18;
  let x = LEFT;
  let y = y0;
  const parts: string[] = [];
  for (const e of entries) {
    const w = 16 + textWidth(e.label) + 16;
    if (x + w > WIDTH - RIGHT && x > LEFT) {
      x = LEFT;
      y += rowH;
    }
    parts.push(
      `<g class="legend-item" transform="translate(${f1(x)},${f1(y)})">${e.swatch}<text x="16" y="10" font-size="${FONT}">${escapeHtml(e.label)}</text></g>`,
    );
    x += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: y - y0 + rowH };
}

export function renderReport(data: ReportData, title = 'promo-jobs report'): string {
  const n = data.days.length;
  const dayW = PLOT_W / Math.max(1, n);
  const xAt = (i: number) => LEFT + i * dayW;
  const xMid = (i: number) => LEFT + (i + 0.5) * dayW;
  const programIds = data.programs.map((p) => p.programId);
  const colourOf = (programId: string) =>
    PROGRAM_COLOURS[Math.max(0, programIds.indexOf(programId)) % PROGRAM_COLOURS.length] as string;

  const parts: string[] = [];
  let y = 8;

  // The legend, at the top of the chart it explains.
  const runStates: RunState[] = ['ok', 'failed', 'incomplete', 'missing', 'not-due'];
  const legend = legendOf(
    [
      ...programIds.map((p) => ({
        swatch: `<line x1="0" x2="12" y1="6" y2="6" stroke="${colourOf(p)}" stroke-width="3"/>`,
        label: `${p}`,
      })),
      ...runStates.map((s) => ({
        swatch: `<rect width="12" height="12" fill="${RUN_COLOURS[s]}" stroke="#999" stroke-width="0.5"/>`,
        label: `run ${s}`,
      })),
      ...(['program', 'cart', 'fee'] as const).map((k) => ({
        swatch: `<line x1="6" x2="6" y1="0" y2="12" stroke="${MARKER_COLOURS[k]}" stroke-dasharray="3,2" stroke-width="1.5"/>`,
        label: { program: 'program date', cart: 'cart policy date', fee: 'fee policy date' }[k],
      })),
    ],
    y,
  );
  parts.push(legend.svg);
  y += legend.height + 6;

  // The dates, in rows of labels that never overlap.
  const markers = packRows(
    markersOf(data).map((m) => ({ ...m, x: xMid(m.index) + 3, width: textWidth(m.label, 11) })),
  );
  const markerRows = markers.reduce((a, m) => Math.max(a, m.row + 1), 0);
  const markerTop = y;
  parts.push(
    `<g class="markers">${markers
      .map(
        (m) =>
          `<text class="marker-label" x="${f1(m.x)}" y="${f1(markerTop + 11 + 14 * m.row)}" font-size="11" fill="${MARKER_COLOURS[m.kind]}"><title>${escapeHtml(m.title)}</title>${escapeHtml(m.label)}</text>`,
      )
      .join('')}</g>`,
  );
  y += markerRows * 14 + 6;
  const panelsTop = y;

  /** A panel: its heading above it, its frame, what `draw` puts in it, and its y labels beside it. */
  const panel = (name: string, heading: string, height: number, draw: (top: number) => string) => {
    const top = y + 16;
    parts.push(
      `<g class="panel" data-panel="${escapeHtml(name)}"><text class="panel-title" x="${LEFT}" y="${f1(y + 11)}" font-size="${FONT}" font-weight="bold">${escapeHtml(heading)}</text>`,
      `<rect x="${LEFT}" y="${f1(top)}" width="${PLOT_W}" height="${height}" fill="#fafafa" stroke="#ddd"/>`,
      draw(top),
      '</g>',
    );
    y = top + height + 10;
  };
  const yAxis = (name: string, top: number, height: number, max: number, steps: number[]) =>
    `<g class="axis" data-axis="y-${escapeHtml(name)}">${steps
      .map((s) => {
        const yy = top + height - s * height;
        const v = s * max;
        return `<text x="${LEFT - 6}" y="${f1(yy + 4)}" font-size="11" text-anchor="end">${Number.isInteger(v) ? v : v.toFixed(1)}</text>`;
      })
      .join('')}</g>`;

  // Active enrolments per program.
  const maxActive = niceMax(Math.max(0, ...Object.values(data.activeByProgram).flat()));
  panel('active', 'active enrolments at the end of each day, by program', ACTIVE_H, (top) => {
    const yv = (v: number) => top + ACTIVE_H - (v / maxActive) * ACTIVE_H;
    const grid = [0.25, 0.5, 0.75]
      .map(
        (s) =>
          `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${f1(yv(s * maxActive))}" y2="${f1(yv(s * maxActive))}" stroke="#eee"/>`,
      )
      .join('');
    const lines = programIds
      .map((p) => {
        const series = data.activeByProgram[p] ?? [];
        const d = series.map((v, i) => `${i === 0 ? 'M' : 'L'}${f1(xMid(i))},${f1(yv(v))}`).join(' ');
        return d
          ? `<path class="active-line" data-program="${escapeHtml(p)}" d="${d}" fill="none" stroke="${colourOf(p)}" stroke-width="2"><title>${escapeHtml(p)}: active enrolments (at most ${Math.max(0, ...series)})</title></path>`
          : '';
      })
      .join('');
    return grid + lines + yAxis('active', top, ACTIVE_H, maxActive, [0, 0.5, 1]);
  });

  // One panel per notice type that occurs, each on its own scale.
  const types = NOTICE_TYPES.filter((t) => data.notices[t].some((v) => v > 0));
  const barW = Math.max(0.8, dayW - (dayW > 3 ? 1 : 0));
  for (const type of types) {
    const series = data.notices[type];
    const peak = Math.max(...series);
    const peakDay = data.days[series.indexOf(peak)] ?? '';
    const max = niceMax(peak);
    const total = series.reduce((a, b) => a + b, 0);
    const byProgram = programIds.filter((p) => data.noticesByProgram[p]?.[type]?.some((v) => v > 0));
    const heading = `${type}: ${total} notices, at most ${peak} a day (${peakDay})`;
    panel(`notices-${type}`, heading, NOTICE_H, (top) => {
      const h = (v: number) => (v / max) * NOTICE_H;
      const bars: string[] = [];
      series.forEach((count, i) => {
        if (count === 0) return;
        let base = 0;
        const stacks: (readonly [string | undefined, number])[] =
          byProgram.length > 0
            ? byProgram.map((p) => [p, data.noticesByProgram[p]?.[type]?.[i] ?? 0] as const)
            : [[undefined, count] as const];
        for (const [p, v] of stacks) {
          if (v === 0) continue;
          const y1 = top + NOTICE_H - h(base + v);
          bars.push(
            `<rect class="notice-bar" x="${f1(xAt(i) + (dayW - barW) / 2)}" y="${f1(y1)}" width="${f1(barW)}" height="${f1(h(v))}" fill="${p ? colourOf(p) : NOTICE_COLOURS[type]}"><title>${data.days[i]} ${type}${p ? ` ${escapeHtml(p)}` : ''}: ${v}</title></rect>`,
          );
          base += v;
        }
      });
      return bars.join('') + yAxis(`notices-${type}`, top, NOTICE_H, max, [0, 1]);
    });
  }
  if (types.length === 0) panel('notices', 'notices per day: none in this range', 20, () => '');

  // The scheduled runs: a row per job, a cell per day.
  const runsHeight = JOB_NAMES.length * (RUN_ROW_H + 3);
  panel(
    'runs',
    'scheduled runs, a cell per day: ok, failed (items failed), incomplete (stopped early), missing (no run)',
    runsHeight,
    (t) =>
      JOB_NAMES.map((job, r) => {
        const yy = t + r * (RUN_ROW_H + 3) + 1.5;
        const cells = (data.runs[job] ?? [])
          .map((d, i) => {
            const detail =
              d.state === 'missing'
                ? 'no run recorded'
                : d.state === 'not-due'
                  ? 'not due yet'
                  : `${d.state}: examined ${d.examined ?? '?'}, changed ${d.changed ?? '?'}, failed ${d.failed ?? 0}`;
            const extra = d.offSchedule > 0 ? `; ${d.offSchedule} run(s) off schedule that day` : '';
            return `<rect class="run run-${d.state}" x="${f1(xAt(i))}" y="${f1(yy)}" width="${f1(Math.max(0.8, dayW))}" height="${RUN_ROW_H}" fill="${RUN_COLOURS[d.state]}"><title>${job} ${d.occurrence}: ${detail}${extra}</title></rect>`;
          })
          .join('');
        return `<text x="${LEFT - 6}" y="${f1(yy + 10)}" font-size="11" text-anchor="end">${escapeHtml(job)}</text>${cells}`;
      }).join(''),
  );
  const bottom = y - 10;

  // Marker lines across every panel, from their label row down.
  const markerLines = markers
    .map(
      (m) =>
        `<line x1="${f1(xMid(m.index))}" x2="${f1(xMid(m.index))}" y1="${f1(markerTop + 14 * m.row)}" y2="${f1(bottom)}" stroke="${MARKER_COLOURS[m.kind]}" stroke-dasharray="4,3" stroke-width="1" opacity="0.7"/>`,
    )
    .join('');

  // The day axis.
  const ticks = dayTicks(data.days, dayW);
  const axisY = bottom + 4;
  const tickMarks = ticks
    .map(
      (t) =>
        `<line x1="${f1(xAt(t.index))}" x2="${f1(xAt(t.index))}" y1="${f1(panelsTop)}" y2="${f1(axisY + 4)}" stroke="#ccc" stroke-width="0.5"/>`,
    )
    .join('');
  const tickLabels = `<g class="axis" data-axis="x">${ticks
    .map(
      (t) =>
        `<text x="${f1(xAt(t.index))}" y="${f1(axisY + 18)}" font-size="${FONT}" text-anchor="${t.anchor}">${escapeHtml(t.label)}</text>`,
    )
    .join('')}</g>`;
  const height = Math.ceil(axisY + 28);
  const svg = `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" font-family="sans-serif">
${tickMarks}${parts.join('')}${markerLines}
<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${f1(axisY)}" y2="${f1(axisY)}" stroke="#333"/>${tickLabels}
</svg>`;

  return page(data, title, svg);
}

function page(data: ReportData, title: string, svg: string): string {
  const rows = (record: Record<string, number>) =>
    Object.entries(record)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td class="n">${v}</td></tr>`)
      .join('');
  const grid = (heading: string, byRow: Record<string, Record<string, number>>) => {
    const kinds = [...new Set(Object.values(byRow).flatMap((c) => Object.keys(c)))].sort();
    const head = kinds.map((k) => `<th>${escapeHtml(k)}</th>`).join('');
    const body = Object.entries(byRow)
      .map(
        ([r, counts]) =>
          `<tr><td>${escapeHtml(r)}</td>${kinds.map((k) => `<td class="n">${counts[k] ?? 0}</td>`).join('')}</tr>`,
      )
      .join('');
    return `<table><tr><th>${escapeHtml(heading)}</th>${head}</tr>${body}</table>`;
  };
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const noticesByType = Object.fromEntries(
    NOTICE_TYPES.map((t) => [t, sum(data.notices[t])] as const).filter(([, v]) => v > 0),
  );
  const noticesByProgram = Object.fromEntries(
    Object.entries(data.noticesByProgram).map(([p, byType]) => [
      p,
      Object.fromEntries(Object.entries(byType).map(([t, s]) => [t, sum(s ?? [])])),
    ]),
  );
  const runCounts = Object.fromEntries(
    JOB_NAMES.map((job) => {
      const counts: Record<string, number> = {};
      for (const d of data.runs[job] ?? []) counts[d.state] = (counts[d.state] ?? 0) + 1;
      return [job, counts];
    }),
  );
  // Each failed run alone (with its count); missing or stopped runs on consecutive days as one line.
  const problems = JOB_NAMES.flatMap((job) => {
    const lines: string[] = [];
    const days = data.runs[job] ?? [];
    for (let i = 0; i < days.length; ) {
      const d = days[i] as (typeof days)[number];
      let j = i + 1;
      if (d.state === 'missing' || d.state === 'incomplete')
        while (j < days.length && days[j]?.state === d.state) j++;
      if (d.state === 'missing' || d.state === 'failed' || d.state === 'incomplete') {
        const last = days[j - 1] as (typeof days)[number];
        const when = j - i === 1 ? d.occurrence : `${d.occurrence} … ${last.occurrence} (${j - i} days)`;
        lines.push(
          `<li class="run-problem">${escapeHtml(job)} ${escapeHtml(when)}: ${d.state}${d.state === 'failed' ? ` (${d.failed} items)` : ''}</li>`,
        );
      }
      i = j;
    }
    return lines;
  });
  const shownProblems =
    problems.length > 40
      ? [...problems.slice(0, 40), `<li>… and ${problems.length - 40} more</li>`]
      : problems;
  const programRows = data.programs
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.programId)}</td><td>${escapeHtml(p.name)}</td><td>${p.from}${p.dateAssumed ? ' (date assumed)' : ''}</td><td>${p.until ?? ''}</td><td>${p.status}</td></tr>`,
    )
    .join('');
  const policyRows = data.policies
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.policyId)}</td><td>${p.kind}</td><td>${p.announcedOn}</td><td>${escapeHtml(p.effectiveAt)}${p.dateAssumed ? ' (date assumed)' : ''}</td><td>${p.status}</td><td>${escapeHtml(p.thirdPartyProducts ?? '')}</td></tr>`,
    )
    .join('');
  const flags = data.flagTimeline
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.since)}</td><td>${f.channel} / ${escapeHtml(String(f.scope))}</td><td>${f.value}</td><td>${escapeHtml(f.policyId ?? '')}</td></tr>`,
    )
    .join('');
  const { read } = data;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} ${data.from} … ${data.to}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}figure{margin:0 0 16px 0}svg{display:block}table{border-collapse:collapse;margin:8px 24px 16px 0;display:inline-table;vertical-align:top}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px}th{background:#f5f5f5}td.n{text-align:right}ul{font-size:13px}</style>
</head><body>
<h1>${escapeHtml(title)}: ${data.from} … ${data.to}</h1>
<p>Drawn from the stored state (${data.range === 'stored' ? 'the range it covers' : 'the range asked for'}): ${read.merchants} merchants, ${read.enrolments} enrolments, ${read.jobRuns} job runs, ${read.policies} policies, ${read.programs} programs${read.sinkNotices === null ? '; policy notices: no local sink read' : `; ${read.sinkNotices} policy notices from the local sink`}. Days are Asia/Shanghai.</p>
<figure>${svg}</figure>
<h2>Runs</h2>
${grid('scheduled runs', runCounts)}
${problems.length === 0 ? '<p>Every scheduled run in the range is recorded, complete, with no failed item.</p>' : `<ul>${shownProblems.join('')}</ul>`}
<h2>Enrolments and notices</h2>
${grid('enrolments by program (now)', data.statusesByProgram)}
<table><tr><th>notices in range</th><th>count</th></tr>${rows(noticesByType)}</table>
${grid('promotion notices by program', noticesByProgram)}
<h2>Calendar</h2>
<table><tr><th>program</th><th>name</th><th>onboarded from</th><th>until</th><th>status</th></tr>${programRows}</table>
<table><tr><th>policy</th><th>kind</th><th>announced</th><th>in force from</th><th>status</th><th>third-party products</th></tr>${policyRows || '<tr><td colspan="6">none on the calendar</td></tr>'}</table>
<table><tr><th>since</th><th>flag</th><th>value</th><th>policy</th></tr>${flags || '<tr><td colspan="4">ALLOWED throughout</td></tr>'}</table>
</body></html>
`;
}
