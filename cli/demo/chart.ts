// The demo's picture: a self-contained HTML page (inline SVG, no scripts, no network) of active
// enrolments and notices per day — a line per program — with the program, cart-policy and fee-policy
// dates marked, and the summary tables.
import { NOTICE_TYPES, type NoticeType } from '../../shared/notices/notice';
import type { ReplaySummary } from './replay';

const WIDTH = 1100;
const HEIGHT = 420;
const PAD = { left: 70, right: 70, top: 30, bottom: 60 };
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

/** A colour per program, in the order the summary lists them (then repeating). */
const PROGRAM_COLOURS = ['#1b5e20', '#e65100', '#4527a0', '#00695c', '#ad1457'];

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  return Math.ceil(value / step) * step;
}

export function renderChart(summary: ReplaySummary): string {
  const days = summary.days;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (days.length <= 1 ? 0 : (i / (days.length - 1)) * plotW);
  const programIds = summary.programs.map((p) => p.programId);
  const colourOf = (programId: string) =>
    PROGRAM_COLOURS[programIds.indexOf(programId) % PROGRAM_COLOURS.length] as string;
  const maxActive = niceMax(
    Math.max(0, ...days.flatMap((d) => programIds.map((p) => d.activeByProgram[p] ?? 0))),
  );
  const noticeTotal = (d: ReplaySummary['days'][number]) =>
    Object.values(d.notices).reduce((a, b) => a + b, 0);
  const maxNotices = niceMax(Math.max(0, ...days.map(noticeTotal)));
  const yActive = (v: number) => PAD.top + plotH - (v / maxActive) * plotH;
  const yNotices = (v: number) => PAD.top + plotH - (v / maxNotices) * plotH;
  const barW = Math.max(1, plotW / Math.max(1, days.length) - 1);
  const types = NOTICE_TYPES.filter((t) => summary.notices[t]);

  const bars = days
    .map((d, i) => {
      let base = 0;
      return types
        .map((t) => {
          const n = d.notices[t] ?? 0;
          if (n === 0) return '';
          const y0 = yNotices(base);
          base += n;
          const y1 = yNotices(base);
          return `<rect x="${(x(i) - barW / 2).toFixed(1)}" y="${y1.toFixed(1)}" width="${barW.toFixed(1)}" height="${(y0 - y1).toFixed(1)}" fill="${NOTICE_COLOURS[t]}" opacity="0.75"><title>${d.day} ${t}: ${n}</title></rect>`;
        })
        .join('');
    })
    .join('');
  const path = (value: (d: ReplaySummary['days'][number]) => number, y: (v: number) => number) =>
    days.map((d, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(value(d)).toFixed(1)}`).join(' ');
  // Per program: its active enrolments (solid, left axis) and its notices per day (dotted, right axis).
  const programLines = programIds
    .map(
      (p) =>
        `<path d="${path((d) => d.activeByProgram[p] ?? 0, yActive)}" fill="none" stroke="${colourOf(p)}" stroke-width="2"><title>${escapeHtml(p)}: active enrolments</title></path>` +
        `<path d="${path((d) => Object.values(d.noticesByProgram[p] ?? {}).reduce((a, b) => a + b, 0), yNotices)}" fill="none" stroke="${colourOf(p)}" stroke-width="1.5" stroke-dasharray="2,3"><title>${escapeHtml(p)}: notices per day</title></path>`,
    )
    .join('');

  const markers = [
    ...new Map(
      summary.flagTimeline
        .filter((f) => f.channel === 'live')
        .map((f) => [f.since.slice(0, 10), `${f.since.slice(5, 10)} live carts: ${f.value}`] as const),
    ),
  ];
  const announcements = [
    ...new Set(summary.days.filter((d) => d.notices.CART_POLICY_ANNOUNCED).map((d) => d.day)),
  ].map((day) => [day, `${day.slice(5)} policies announced`] as const);
  const assumed = (flag: boolean) => (flag ? ' (date assumed)' : '');
  // Program dates: merchants onboarded from this day on are eligible.
  const programMarkers = summary.programs.flatMap((p) => [
    [
      p.from,
      `${p.from.slice(5)} ${p.programId} from${assumed(p.dateAssumed)}`,
      colourOf(p.programId),
    ] as const,
    ...(p.until
      ? [[p.until, `${p.until.slice(5)} ${p.programId} until`, colourOf(p.programId)] as const]
      : []),
  ]);
  const feeMarkers = summary.feePolicies.map(
    (f) =>
      [
        f.effectiveAt.slice(0, 10),
        `${f.effectiveAt.slice(5, 10)} ${f.policyId}${assumed(f.dateAssumed)}`,
        '#6d4c41',
      ] as const,
  );
  const policyMarkers = [...announcements, ...markers].map(
    ([day, label]) => [day, label, '#c62828'] as const,
  );
  const markerLines = [...programMarkers, ...policyMarkers, ...feeMarkers]
    .map(([day, label, colour], k) => {
      const i = days.findIndex((d) => d.day === day);
      if (i < 0) return '';
      return `<line x1="${x(i)}" x2="${x(i)}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="${colour}" stroke-dasharray="5,4"/><text x="${x(i) + 4}" y="${PAD.top + 14 + 16 * k}" font-size="12" fill="${colour}">${escapeHtml(label)}</text>`;
    })
    .join('');

  const monthTicks = days
    .map((d, i) =>
      d.day.endsWith('-01') || i === 0
        ? `<line x1="${x(i)}" x2="${x(i)}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 5}" stroke="#333"/><text x="${x(i)}" y="${PAD.top + plotH + 20}" font-size="12" text-anchor="middle">${d.day.slice(0, 7)}</text>`
        : '',
    )
    .join('');
  const yTicks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (f) =>
        `<text x="${PAD.left - 8}" y="${yActive(f * maxActive) + 4}" font-size="12" text-anchor="end" fill="#1b5e20">${Math.round(f * maxActive)}</text>` +
        `<text x="${WIDTH - PAD.right + 8}" y="${yNotices(f * maxNotices) + 4}" font-size="12" fill="#333">${Math.round(f * maxNotices)}</text>` +
        `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${yActive(f * maxActive)}" y2="${yActive(f * maxActive)}" stroke="#eee"/>`,
    )
    .join('');
  const legend = [
    ...programIds.map(
      (p) =>
        `<span style="color:${colourOf(p)}">━ ${escapeHtml(p)} active enrolments (left axis) ┄ its notices/day (right axis)</span>`,
    ),
    ...types.map(
      (t) =>
        `<span><span style="display:inline-block;width:10px;height:10px;background:${NOTICE_COLOURS[t]}"></span> ${t}</span>`,
    ),
  ].join(' &nbsp; ');

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif">
${yTicks}${bars}${programLines}${markerLines}
<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#333"/>${monthTicks}
<text x="${PAD.left - 55}" y="${PAD.top - 10}" font-size="12" fill="#1b5e20">active</text>
<text x="${WIDTH - PAD.right + 8}" y="${PAD.top - 10}" font-size="12">notices/day</text>
</svg>`;

  const rows = (record: Record<string, number>) =>
    Object.entries(record)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td style="text-align:right">${v}</td></tr>`)
      .join('');
  const byProgramTable = (title: string, byProgram: Record<string, Record<string, number>>) => {
    const kinds = [...new Set(Object.values(byProgram).flatMap((c) => Object.keys(c)))].sort();
    const head = kinds.map((k) => `<th>${escapeHtml(k)}</th>`).join('');
    const body = Object.entries(byProgram)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([p, counts]) =>
          `<tr><td>${escapeHtml(p)}</td>${kinds.map((k) => `<td style="text-align:right">${counts[k] ?? 0}</td>`).join('')}</tr>`,
      )
      .join('');
    return `<table><tr><th>${escapeHtml(title)}</th>${head}</tr>${body}</table>`;
  };
  const programRows = summary.programs
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.programId)}</td><td>${escapeHtml(p.name)}</td><td>${p.from}${assumed(p.dateAssumed)}</td><td>${p.until ?? ''}</td><td>${p.status}</td></tr>`,
    )
    .join('');
  const feeRows = summary.feePolicies
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.policyId)}</td><td>${escapeHtml(f.effectiveAt)}${assumed(f.dateAssumed)}</td></tr>`,
    )
    .join('');
  const flags = summary.flagTimeline
    .map(
      (f) =>
        `<tr><td>${escapeHtml(f.since)}</td><td>${f.channel} / ${f.scope}</td><td>${f.value}</td><td>${escapeHtml(f.policyId ?? '')}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>promo-jobs demo ${summary.from} … ${summary.to}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 24px 16px 0;display:inline-table;vertical-align:top}td,th{border:1px solid #ddd;padding:3px 8px;font-size:13px}th{background:#f5f5f5}</style>
</head><body>
<h1>Replay of ${summary.from} … ${summary.to}</h1>
<p>${summary.merchants} merchants (seed ${summary.seed}), ${summary.runs} job runs. Times are Asia/Shanghai.</p>
${svg}
<p>${legend}</p>
<table><tr><th>changes by kind</th><th>count</th></tr>${rows(summary.transitions)}</table>
<table><tr><th>notices by type</th><th>count</th></tr>${rows(summary.notices)}</table>
<table><tr><th>promotions by status</th><th>count</th></tr>${rows(summary.statuses)}</table>
${byProgramTable('enrolments by program', summary.statusesByProgram)}
${byProgramTable('notices by program', summary.noticesByProgram)}
<table><tr><th>program</th><th>name</th><th>onboarded from</th><th>until</th><th>status</th></tr>${programRows}</table>
<table><tr><th>fee policy</th><th>in force from</th></tr>${feeRows || '<tr><td colspan="2">none on the calendar</td></tr>'}</table>
<table><tr><th>since</th><th>flag</th><th>value</th><th>policy</th></tr>${flags}</table>
</body></html>
`;
}
