// middy middleware shared by every handler.
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * Validates the raw event with a parser (zod underneath) before the handler runs, replacing the
 * event with the parsed value. A refused event fails the invocation with the parser's message,
 * which names the field; nothing has been read or written by then.
 */
export function parseEvent<Parsed, Result>(
  parse: (event: unknown) => Parsed,
): middy.MiddlewareObj<Parsed, Result, Error, Context> {
  return {
    before: (request) => {
      request.event = parse(request.event as unknown);
    },
  };
}
