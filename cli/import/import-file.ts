// Reading merchant records from JSON Lines or CSV, streamed so that a file of any size is imported in
// bounded memory. Each line (a CSV record, which quoting may spread over several lines) is validated on
// its own; bad ones are reported by the number of the line they start on.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
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
const TOO_LONG = `(line): longer than ${MAX_LINE_LENGTH} characters`;

function validate(line: number, value: unknown): ParsedLine {
  const result = merchantRecordSchema.safeParse(value);
  return result.success ? { line, record: result.data } : { line, error: describeZodError(result.error) };
}

/** Yields every non-blank line of the file as a validated record or an error naming the problem. */
export async function* readMerchantFile(path: string, format: ImportFormat): AsyncGenerator<ParsedLine> {
  await refuseWrongKindOfFile(path, format);
  yield* format === 'jsonl' ? readJsonLines(path) : readCsv(path);
}

const SAMPLE_BYTES = 64 * 1024;

/**
 * A file that is not UTF-8 text, or not JSON Lines at all, is refused as a whole with one message
 * that says what it is (rather than one "not valid JSON" per line), before anything is recorded.
 */
async function refuseWrongKindOfFile(path: string, format: ImportFormat): Promise<void> {
  const file = await open(path, 'r');
  let sample: Buffer;
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await file.read(buffer, 0, SAMPLE_BYTES, 0);
    sample = buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
  const utf16Bom = (sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff);
  if (utf16Bom || sample.includes(0)) {
    throw new InputError('file: is UTF-16 (or binary), not UTF-8 text: save it as UTF-8 and import it again');
  }
  // A full sample may end inside a character: leave its last bytes out of the check.
  const checked = sample.length === SAMPLE_BYTES ? sample.subarray(0, SAMPLE_BYTES - 3) : sample;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(checked);
  } catch {
    throw new InputError(
      'file: is not UTF-8 text (Latin-1, GBK or another encoding?): save it as UTF-8 and import it again',
    );
  }
  if (format !== 'jsonl') return;
  const first = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .find((line) => line.trim() !== '');
  if (first === undefined) return;
  let value: unknown;
  try {
    value = JSON.parse(first);
  } catch {
    value = undefined;
  }
  // A pretty-printed document opens with a lone `{` or `[`; no record line starts with `[`.
  const documentStart = value === undefined && /^\s*(\{\s*$|\[)/.test(first);
  if (Array.isArray(value) || documentStart) {
    throw new InputError(
      "file: is a JSON document, not JSON Lines (one record per line): convert it, e.g. jq -c '.[]' file.json > file.jsonl",
    );
  }
}

async function* readJsonLines(path: string): AsyncGenerator<ParsedLine> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const raw of lines) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    if (text.length > MAX_LINE_LENGTH) {
      yield { line, error: TOO_LONG };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { line, error: '(line): not valid JSON' };
      continue;
    }
    yield validate(line, value);
  }
}

async function* readCsv(path: string): AsyncGenerator<ParsedLine> {
  let header: string[] | undefined;
  for await (const row of csvRows(path)) {
    if (!header) {
      if ('error' in row) throw new InputError(`file: CSV header: ${row.error.replace('(line): ', '')}`);
      header = row.cells.map((h) => h.trim());
      const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
      if (unknown.length > 0 || !header.includes('merchantId') || !header.includes('onboardedAt')) {
        throw new InputError(
          `file: CSV header must name the columns merchantId, onboardedAt and optionally categories, liveCartSources, occurredAt` +
            (unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''),
        );
      }
      continue;
    }
    if ('error' in row) {
      yield row;
      continue;
    }
    const { line, cells } = row;
    if (cells.length !== header.length) {
      yield { line, error: `(line): has ${cells.length} cells, the header has ${header.length}` };
      continue;
    }
    const value: Record<string, unknown> = {};
    header.forEach((column, i) => {
      const cell = (cells[i] ?? '').trim();
      if (cell === '') return;
      // Lists are written "a;b" in a CSV cell.
      value[column] = LIST_COLUMNS.has(column) ? cell.split(';').map((s) => s.trim()) : cell;
    });
    yield validate(line, value);
  }
  if (!header) throw new InputError('file: CSV file has no header line');
}

type CsvRow = { line: number; cells: string[] } | { line: number; error: string };

/** Why csv-parse refused a record, as a line's error. */
function csvProblem(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return '(line): unterminated quoted field';
    case 'CSV_MAX_RECORD_SIZE':
      return TOO_LONG;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return '(line): a quoted cell must end at its closing quote (a quote inside it is written "")';
    default:
      return `(line): not valid CSV (${error.code})`;
  }
}

const isBlank = (cells: string[]) => cells.every((cell) => cell.trim() === '');
/** Line breaks as readline counts them: CRLF, LF or a lone CR. */
const lineBreaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0;

/**
 * The file's CSV records (RFC 4180: a quoted cell may hold commas, "" and line breaks), each with the
 * line it starts on, blank lines skipped. A record the parser refuses (an unclosed quote, a runaway
 * length) is yielded as an error of the line it starts on, and parsing resumes on the next line: one
 * bad line does not swallow the rest of the file.
 */
async function* csvRows(path: string): AsyncGenerator<CsvRow> {
  let start = 0; // the byte the parser starts at
  let linesBefore = 0; // the lines of the file before `start`
  for (;;) {
    const input = createReadStream(path, { start });
    const parser = input.pipe(
      parse({
        bom: start === 0,
        info: true,
        raw: true,
        relax_column_count: true, // a line with too few or too many cells is rejected alone, below
        relax_quotes: true, // a quote inside an unquoted cell is a character, as it always was here
        skip_empty_lines: true,
        max_record_size: MAX_LINE_LENGTH,
      }),
    );
    let bytesRead = 0; // of the records parsed, from `start`
    let linesRead = 0;
    try {
      for await (const { record, info, raw } of inOrder<ParsedRecord>(parser)) {
        // Lines counted from the record's raw text (which starts with the empty lines skipped before
        // it): csv-parse's own count takes a CRLF inside quotes for two.
        const line = linesBefore + linesRead + lineBreaks(/^[\r\n]*/.exec(raw)?.[0] ?? '') + 1;
        bytesRead = info.bytes;
        linesRead += lineBreaks(raw);
        if (!isBlank(record)) yield { line, cells: record };
      }
      return;
    } catch (error) {
      if (!(error instanceof CsvError)) throw error;
      const bad = await nextLine(path, start + bytesRead, linesBefore + linesRead);
      if (!bad) return;
      yield { line: bad.line, error: csvProblem(error) };
      start = bad.after;
      linesBefore = bad.line;
    } finally {
      input.destroy();
      parser.destroy();
    }
  }
}

interface ParsedRecord {
  record: string[];
  info: { bytes: number };
  raw: string;
}

/**
 * A stream's items, then its error: unlike the stream's own async iterator, which throws as soon as
 * the stream fails and drops the records it had parsed before the bad one.
 */
async function* inOrder<T>(stream: Readable): AsyncGenerator<T> {
  const queue: T[] = [];
  let failure: { error: unknown } | undefined;
  let ended = false;
  let wake = () => {};
  stream.on('data', (item: T) => {
    queue.push(item);
    if (queue.length >= 1000) stream.pause();
    wake();
  });
  stream.on('error', (error) => {
    failure = { error };
    wake();
  });
  stream.on('end', () => {
    ended = true;
    wake();
  });
  for (;;) {
    const item = queue.shift();
    if (item !== undefined) {
      if (queue.length < 100) stream.resume();
      yield item;
    } else if (failure) throw failure.error;
    else if (ended) return;
    else await new Promise<void>((resolve) => (wake = resolve));
  }
}

/**
 * The first non-blank line from byte `from` (the `lines`-th line of the file ended just before): its
 * number and the byte after its line break, or undefined at the end of the file.
 */
async function nextLine(
  path: string,
  from: number,
  lines: number,
): Promise<{ line: number; after: number } | undefined> {
  const file = await open(path);
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let position = from;
    let line = lines + 1;
    let blank = true;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return blank ? undefined : { line, after: position };
      for (let i = 0; i < bytesRead; i++) {
        const byte = chunk[i] as number;
        if (byte === 0x0a) {
          if (!blank) return { line, after: position + i + 1 };
          line++;
        } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) blank = false;
      }
      position += bytesRead;
    }
  } finally {
    await file.close();
  }
}
