// Reading merchant records from JSON Lines or CSV, streamed line by line so that a file of any size
// is imported in bounded memory. Each line is validated on its own; bad lines are reported by number.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeZodError, InputError } from '../../shared/errors';
import { type MerchantRecord, merchantRecordSchema } from '../../shared/merchants/record';

export type ImportFormat = 'jsonl' | 'csv';

export type ParsedLine = { line: number; record: MerchantRecord } | { line: number; error: string };

export function formatOf(path: string): ImportFormat {
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  throw new InputError(`file: cannot tell the format of ${path} from its extension; use --format jsonl|csv`);
}

const CSV_COLUMNS = ['merchantId', 'onboardedAt', 'categories', 'liveCartSources', 'occurredAt'] as const;
const LIST_COLUMNS = new Set<string>(['categories', 'liveCartSources']);
const MAX_LINE_LENGTH = 10_000;

function validate(line: number, value: unknown): ParsedLine {
  const result = merchantRecordSchema.safeParse(value);
  return result.success ? { line, record: result.data } : { line, error: describeZodError(result.error) };
}

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
export function splitCsvLine(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  if (quoted) throw new Error('unterminated quoted field');
  cells.push(cell);
  return cells;
}

/** Yields every non-blank line of the file as a validated record or an error naming the problem. */
export async function* readMerchantFile(path: string, format: ImportFormat): AsyncGenerator<ParsedLine> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNumber = 0;
  let header: string[] | undefined;
  for await (const raw of lines) {
    lineNumber++;
    const text = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    if (text.length > MAX_LINE_LENGTH) {
      yield { line: lineNumber, error: `(line): longer than ${MAX_LINE_LENGTH} characters` };
      continue;
    }
    if (format === 'jsonl') {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        yield { line: lineNumber, error: '(line): not valid JSON' };
        continue;
      }
      yield validate(lineNumber, value);
      continue;
    }
    if (!header) {
      header = splitCsvLine(text).map((h) => h.trim());
      const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
      if (unknown.length > 0 || !header.includes('merchantId') || !header.includes('onboardedAt')) {
        throw new InputError(
          `file: CSV header must name the columns merchantId, onboardedAt and optionally categories, liveCartSources, occurredAt` +
            (unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''),
        );
      }
      continue;
    }
    let cells: string[];
    try {
      cells = splitCsvLine(text);
    } catch (error) {
      yield { line: lineNumber, error: `(line): ${(error as Error).message}` };
      continue;
    }
    if (cells.length !== header.length) {
      yield { line: lineNumber, error: `(line): has ${cells.length} cells, the header has ${header.length}` };
      continue;
    }
    const value: Record<string, unknown> = {};
    header.forEach((column, i) => {
      const cell = (cells[i] ?? '').trim();
      if (cell === '') return;
      // Lists are written "a;b" in a CSV cell.
      value[column] = LIST_COLUMNS.has(column) ? cell.split(';').map((s) => s.trim()) : cell;
    });
    yield validate(lineNumber, value);
  }
  if (format === 'csv' && !header) throw new InputError('file: CSV file has no header line');
}
