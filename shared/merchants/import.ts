// Bulk import: stream the file, validate each line, record valid lines in batches. Valid lines are
// stored even when others are rejected; re-running the same file changes nothing.
import type { Deps } from '../deps';
import { type ImportFormat, readMerchantFile } from './import-file';
import { type MerchantRecord, recordMerchants } from './record';

export interface ImportSummary {
  created: number;
  updated: number;
  unchanged: number;
  rejected: { line: number; error: string }[];
  rejectedCount: number;
}

const BATCH = 500;
const MAX_LISTED_REJECTIONS = 1000;

export async function importMerchants(
  deps: Deps,
  path: string,
  format: ImportFormat,
  onProgress?: (summary: ImportSummary) => void,
): Promise<ImportSummary> {
  const summary: ImportSummary = { created: 0, updated: 0, unchanged: 0, rejected: [], rejectedCount: 0 };
  let batch: MerchantRecord[] = [];
  const flush = async () => {
    for (const outcome of await recordMerchants(deps, batch)) summary[outcome]++;
    batch = [];
    onProgress?.(summary);
  };
  for await (const parsed of readMerchantFile(path, format)) {
    if ('error' in parsed) {
      summary.rejectedCount++;
      if (summary.rejected.length < MAX_LISTED_REJECTIONS) summary.rejected.push(parsed);
      continue;
    }
    batch.push(parsed.record);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return summary;
}
