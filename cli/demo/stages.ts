// Where the demo's time goes: each stage's wall-clock time and the DynamoDB requests it sent, so a
// slow replay says which part is slow (docs/performance.md has the profile these stages came from).
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface StageFigures {
  ms: number;
  requests: number;
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
    (next) => async (args) => {
      if (current) current.requests++;
      return next(args);
    },
    { step: 'initialize', name: 'demoStageRequests' },
  );
  return {
    async time(stage, work) {
      stages[stage] ??= { ms: 0, requests: 0 };
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
