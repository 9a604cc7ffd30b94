// Items read back are checked, not trusted: a malformed one is an error naming its key and the field.
// (The same contract as parseItem in the merchants/promotions/policies store, shared/store/items.ts
// on its branch: at merge, this file folds into that one.)
import type { z } from 'zod';
import { describeZodError } from '../errors';

/** A stored item that does not have the shape its kind must have (a bug, or a hand edit of the table). */
export class MalformedItemError extends Error {
  override name = 'MalformedItemError';
}

/** An item parsed with its schema; a failure names its key and each bad field. */
export function parseItem<S extends z.ZodType>(schema: S, item: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(item);
  if (result.success) return result.data;
  throw new MalformedItemError(
    `stored item ${String(item.pk)} / ${String(item.sk)} is malformed: ${describeZodError(result.error)}`,
  );
}
