// `report --aws`: the deployed table read through the SDK (mocked with aws-sdk-client-mock): only
// Queries (the programs and policy partitions, each job's runs, every shard of the onboarded index),
// never a Scan, no local sink, and the page written locally.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ONBOARDED_SHARDS } from '../../shared/store/keys';
import { ONBOARDED_INDEX } from '../../shared/store/table';
import { cliInProcess } from '../support/cli';

const dynamo = mockClient(DynamoDBDocumentClient);
// The SDK reads its Region and credentials from the process's environment.
const AWS_ENV = { AWS_REGION: 'ap-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' };
const saved = Object.fromEntries(Object.keys(AWS_ENV).map((k) => [k, process.env[k]]));
beforeEach(() => Object.assign(process.env, AWS_ENV));
afterEach(() => {
  dynamo.reset();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('report --aws', () => {
  it('reads the deployed table with Queries only and draws the page', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [] });
    const home = mkdtempSync(join(tmpdir(), 'report-aws-'));
    const result = await cliInProcess(
      ['--aws', '--table', 'promo-jobs-prod', 'report', '--from', '2020-05-01', '--to', '2020-05-31'],
      {
        PROMO_JOBS_HOME: home,
        AWS_REGION: 'ap-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
        DYNAMODB_ENDPOINT: undefined,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const drawn = result.json[0] as {
      path: string;
      read: Record<string, unknown>;
      runs: Record<string, unknown>;
    };
    expect(drawn.path).toBe(join(home, 'report.html'));
    expect(existsSync(drawn.path)).toBe(true);
    expect(drawn.read).toMatchObject({ merchants: 0, jobRuns: 0, sinkNotices: null });
    expect(drawn.runs).toMatchObject({ activate: { missing: 31 } });
    expect(dynamo.commandCalls(ScanCommand)).toHaveLength(0);
    const queries = dynamo.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries.every((q) => q.TableName === 'promo-jobs-prod')).toBe(true);
    expect(queries.filter((q) => q.IndexName === ONBOARDED_INDEX.indexName)).toHaveLength(ONBOARDED_SHARDS);
  });
});
