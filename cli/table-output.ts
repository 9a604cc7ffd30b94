// `--output table`: a command's list as aligned columns for people (cli-table3, no borders, no
// colours, like `kubectl get`). JSON Lines stay the default and the interface that tools script against.
import Table from 'cli-table3';

/** The widest a cell may be before it is cut with "…": a row stays on one line of a terminal. */
const MAX_CELL_WIDTH = 48;

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

const PLAIN = { head: [], border: [], 'padding-left': 0, 'padding-right': 0 };

/** A field's value as one cell: nothing for null, lists joined with commas, objects as compact JSON. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(',');
  return JSON.stringify(value);
}

const fitted = (text: string) => {
  const line = text.replace(/\s*\n\s*/g, ' ');
  return line.length > MAX_CELL_WIDTH ? `${line.slice(0, MAX_CELL_WIDTH - 1)}…` : line;
};

/**
 * The rows as a table: `columns` (the command's choice) or every field in the order it first appears.
 * A single object is shown as a two-column table of its fields. Empty when there are no rows.
 */
export function renderTable(output: unknown, columns?: readonly string[]): string {
  const rows = (Array.isArray(output) ? output : [output]).filter((r) => r !== undefined);
  if (rows.length === 0) return '';
  const records = rows.map(
    (r): Record<string, unknown> => (typeof r === 'object' && r !== null ? r : { value: r }),
  );
  if (!Array.isArray(output)) {
    const fields = new Table({ chars: NO_BORDERS, style: PLAIN });
    for (const [key, value] of Object.entries(records[0] ?? {})) fields.push([key, fitted(cell(value))]);
    return withoutTrailingSpace(fields.toString());
  }
  const head = columns ? [...columns] : [...new Set(records.flatMap((r) => Object.keys(r)))];
  const table = new Table({
    head,
    chars: NO_BORDERS,
    style: PLAIN,
  });
  for (const r of records) table.push(head.map((c) => fitted(cell(r[c]))));
  return withoutTrailingSpace(table.toString());
}

const withoutTrailingSpace = (text: string) => `${text.replace(/ +$/gm, '')}\n`;
