// Where the demo's time goes: each stage's wall-clock time, the DynamoDB requests it sent and the
// items they wrote, so a slow replay says which part is slow (docs/performance.md has the profile
// these stages came from, and why the items written bound the demo's time on DynamoDB Local).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface StageFigures {
  ms: number;
  requests: number;
  /** Items the requests wrote (put, updated or deleted), whether one to a request or many. */
  writes: number;
}

/** How many items a request writes, by its command and input (0 for reads). */
export function itemsWritten(commandName: string, input: Record<string, unknown>): number {
  switch (commandName) {
    case 'PutItemCommand':
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      return 1;
    case 'TransactWriteItemsCommand':
      return (input.TransactItems as Record<string, unknown>[]).filter((action) => !action.ConditionCheck)
        .length;
    case 'BatchWriteItemCommand':
      return Object.values(input.RequestItems as Record<string, unknown[]>).reduce(
        (n, list) => n + list.length,
        0,
      );
    default:
      return 0;
  }
}

export interface StageClock {
  /** Runs `work`, adding its time and requests to `stage` (stages may be entered many times). */
  time<T>(stage: string, work: () => Promise<T>): Promise<T>;
  /** Every stage in the order first entered. */
  figures(): Record<string, StageFigures>;
}

/**
 * A clock over one client: requests are counted by a middleware on it, and charged to the stage
 * running when they were sent. Stages do not overlap (the replay runs one thing at a time).
 */
export function createStageClock(client: DynamoDBDocumentClient, now: () => number = Date.now): StageClock {
  const stages: Record<string, StageFigures> = {};
  let current: StageFigures | undefined;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (current) {
        current.requests++;
        current.writes += itemsWritten(context.commandName ?? '', args.input as Record<string, unknown>);
      }
      return next(args);
    },
    { step: 'initialize', name: 'demoStageRequests' },
  );
  return {
    async time(stage, work) {
      stages[stage] ??= { ms: 0, requests: 0, writes: 0 };
      const figures = stages[stage];
      current = figures;
      const started = now();
      try {
        return await work();
      } finally {
        figures.ms += now() - started;
        current = undefined;
      }
    },
    figures: () => stages,
  };
}
