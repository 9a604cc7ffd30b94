// Bulk import: stream the file, validate each line, record valid lines in batches. Valid lines are
// stored even when others are rejected (by validation, or by an error while recording that one line);
// re-running the same file changes nothing.
import type { Deps } from '../../shared/deps';
import { InputError } from '../../shared/errors';
import { type MerchantRecord, recordMerchantsSettled } from '../../shared/merchants/record';
import { type ImportFormat, readMerchantFile } from './import-file';

export interface ImportSummary {
  created: number;
  updated: number;
  unchanged: number;
  /** Lines older (by their `occurredAt`) than what is recorded for the merchant: ignored. */
  stale: number;
  rejected: { line: number; error: string }[];
  rejectedCount: number;
}

/** A line's error as the summary shows it: the field for an input problem, `(line)` for anything else. */
function describeFailure(error: unknown): string {
  if (error instanceof InputError) return error.message;
  const name = error instanceof Error ? error.name : 'Error';
  return `(line): could not be recorded: ${name}: ${error instanceof Error ? error.message : String(error)}`;
}

const BATCH = 500;
const MAX_LISTED_REJECTIONS = 1000;

export async function importMerchants(
  deps: Deps,
  path: string,
  format: ImportFormat,
  onProgress?: (summary: ImportSummary) => void,
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    created: 0,
    updated: 0,
    unchanged: 0,
    stale: 0,
    rejected: [],
    rejectedCount: 0,
  };
  const reject = (line: number, error: string) => {
    summary.rejectedCount++;
    if (summary.rejected.length < MAX_LISTED_REJECTIONS) summary.rejected.push({ line, error });
  };
  let batch: { line: number; record: MerchantRecord }[] = [];
  const flush = async () => {
    const results = await recordMerchantsSettled(
      deps,
      batch.map((b) => b.record),
    );
    results.forEach((result, i) => {
      if ('outcome' in result) summary[result.outcome]++;
      else reject(batch[i]?.line ?? 0, describeFailure(result.error));
    });
    batch = [];
    onProgress?.(summary);
  };
  for await (const parsed of readMerchantFile(path, format)) {
    if ('error' in parsed) {
      reject(parsed.line, parsed.error);
      continue;
    }
    batch.push(parsed);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  summary.rejected.sort((a, b) => a.line - b.line); // a line rejected while recording is known only at its batch's end
  return summary;
}
