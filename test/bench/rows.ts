// The benchmark's goals, one row each, as the performance issue set them: what was measured, the goal,
// and a ratio of the two in the goal's own terms (throughput ÷ raw limit; time ÷ time allowed; …).
// `npm run bench` prints these lines and stores them in bench-results/latest.json; the README's table
// between its bench markers is regenerated from that file (`npm run bench -- --readme`).
import { readFileSync, writeFileSync } from 'node:fs';

export interface GoalRow {
  what: string;
  /** The measured figures, as a person reads them (with their context: raw limit, N, …). */
  measured: string;
  goal: string;
  /** The measured figure in the goal's terms: meets the goal when `ok`. */
  ratio: number;
  ok: boolean;
}

/** A row whose ratio must be at least `min` (a throughput against its ceiling). */
export function atLeast(
  what: string,
  measured: string,
  ratio: number,
  min: number,
  goal = `≥ ${min}`,
): GoalRow {
  return { what, measured, goal, ratio, ok: ratio >= min };
}

/** A row whose ratio must be at most `max` (a time or size against what is allowed). */
export function atMost(what: string, measured: string, ratio: number, max: number, goal: string): GoalRow {
  return { what, measured, goal, ratio, ok: ratio <= max };
}

/** One line per row, as the bench prints them. */
export function rowLine(row: GoalRow): string {
  return `${row.ok ? 'ok    ' : 'MISSED'} ${row.what}: ${row.measured}; goal ${row.goal}; ratio ${row.ratio.toFixed(2)}`;
}

const BEGIN = '<!-- bench:begin (regenerated from bench-results/latest.json by npm run bench) -->';
const END = '<!-- bench:end -->';

/** The README's table of goals, from a bench run's results. */
export function goalTable(results: {
  measuredAt: string;
  machine: Record<string, unknown>;
  rows: GoalRow[];
}) {
  const { machine } = results;
  const cells = [
    ['what', 'measured', 'goal', 'ratio', ''],
    ...results.rows.map((r) => [r.what, r.measured, r.goal, r.ratio.toFixed(2), r.ok ? 'ok' : '**missed**']),
  ];
  // Aligned as the formatter (biome) aligns Markdown tables, so `npm run check` stays green.
  const widths = (cells[0] as string[]).map((_, c) =>
    Math.max(3, ...cells.map((row) => (row[c] as string).length)),
  );
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c] as number)).join(' | ')} |`;
  const [header, ...body] = cells as string[][];
  return [
    `Measured ${results.measuredAt.slice(0, 16).replace('T', ' ')} UTC on ${machine.cores} cores (${machine.model}), ${machine.memoryGiB} GiB, Node.js ${machine.node}:`,
    '',
    line(header as string[]),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ].join('\n');
}

/** Replaces what is between the README's bench markers with the table of `resultsPath`. */
export function regenerateReadme(readmePath: string, resultsPath: string): void {
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${readmePath}: no bench markers (${BEGIN} … ${END})`);
  const table = goalTable(JSON.parse(readFileSync(resultsPath, 'utf8')));
  writeFileSync(readmePath, `${readme.slice(0, start + BEGIN.length)}\n${table}\n${readme.slice(end)}`);
}
