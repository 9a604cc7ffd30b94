// Items read back are checked, not trusted: a malformed one is an error naming its key.
import type { z } from 'zod';
import { describeZodError } from '../errors';

export class MalformedItemError extends Error {
  override name = 'MalformedItemError';
}

/** The item as its schema describes it; throws MalformedItemError naming its key and each bad field. */
export function parseStoredItem<S extends z.ZodType>(schema: S, item: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(item);
  if (result.success) return result.data;
  throw new MalformedItemError(
    `malformed item ${String(item.pk)} / ${String(item.sk)}: ${describeZodError(result.error)}`,
  );
}
