// The code that would be deployed, run: the app is synthesized with bundling (local esbuild, exactly as
// `cdk deploy` does), and each function's bundle is invoked from the cloud assembly in a fresh Node.js
// process with its template environment and a realistic event — against DynamoDB Local, and for the
// notifier an SNS stand-in. The bundles sit in a temporary folder with no node_modules above them, so
// anything left out of a bundle fails here, as would a wiring or configuration mistake.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { announcePolicy } from '../../cli/policies/announcements';
import { DEFAULT_CART_POLICIES } from '../../cli/policies/calendar';
import { BUNDLE_EXTERNAL_MODULES } from '../../infra/bundling';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import type { StreamRecord } from '../../shared/notices/notifier';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/store/client';
import { listStoredFlags } from '../../shared/store/flags';
import { getMerchant } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import { getPromotion } from '../../shared/store/promotions';
import { collect } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { type LambdaStub, startLambdaStub } from '../support/lambda-stub';
import { sh } from '../support/promotions';
import { type SnsStub, startSnsStub } from '../support/sns-stub';
import { resourcesOfType, type Synth, synth } from './support';

const RUNNER = join(import.meta.dirname, '..', 'support', 'lambda-runner.cjs');
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:promo-jobs-test-notices';

const db = useLocalDynamo();
let app: Synth;
let stub: SnsStub;
let lambdaStub: LambdaStub;
const work = mkdtempSync(join(tmpdir(), 'bundled-handlers-'));

interface Bundle {
  dir: string;
  /** The function's environment as synthesized; values the template resolves at deploy time are absent. */
  environment: Record<string, string>;
  memory: string;
  /** The function's timeout in seconds: the invocation's time limit in the runner. */
  timeout: number;
}
const bundles = new Map<string, Bundle>();

beforeAll(async () => {
  app = synth({}, { bundle: true });
  const manifest = JSON.parse(
    readFileSync(join(app.outdir, `${app.stack.artifactId}.assets.json`), 'utf8'),
  ) as { files: Record<string, { source: { path: string } }> };
  for (const fn of Object.values(resourcesOfType(app.template, 'AWS::Lambda::Function'))) {
    const props = fn.Properties as {
      FunctionName: string;
      Code: { S3Key: string };
      MemorySize: number;
      Timeout: number;
      Environment: { Variables: Record<string, unknown> };
    };
    const asset = manifest.files[props.Code.S3Key.replace(/\.zip$/, '')];
    if (!asset) throw new Error(`no asset for ${props.FunctionName}`);
    bundles.set(props.FunctionName.replace('promo-jobs-test-', ''), {
      dir: join(app.outdir, asset.source.path),
      environment: Object.fromEntries(
        Object.entries(props.Environment.Variables).filter(
          (e): e is [string, string] => typeof e[1] === 'string',
        ),
      ),
      memory: String(props.MemorySize),
      timeout: props.Timeout,
    });
  }
  stub = await startSnsStub();
  lambdaStub = await startLambdaStub();
});
afterAll(async () => {
  await stub?.close();
  await lambdaStub?.close();
});
beforeEach(async () => {
  await db.reset();
  stub.published.length = 0;
  stub.failWith = undefined;
  lambdaStub.invocations.length = 0;
});

interface Invocation {
  results: ({ ok: unknown } | { error: { name: string; message: string } } | { initError: unknown })[];
  /** Structured lines on stdout and stderr (Powertools writes warnings and errors there): logs and EMF. */
  logs: Record<string, unknown>[];
}

/** Invokes a function's bundle with events in order, in one process (one warm container). */
async function invoke(
  name: string,
  events: unknown[],
  extraEnv: Record<string, string> = {},
  /** The invocation's time limit; the function's timeout unless a test needs less. */
  timeoutSeconds?: number,
): Promise<Invocation> {
  const bundle = bundles.get(name);
  if (!bundle) throw new Error(`no bundle for ${name}`);
  const tag = `${name}-${Math.random().toString(36).slice(2)}`;
  const eventsPath = join(work, `${tag}.events.json`);
  const resultsPath = join(work, `${tag}.results.json`);
  writeFileSync(eventsPath, JSON.stringify(events));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
    ...bundle.environment,
    AWS_LAMBDA_FUNCTION_NAME: `promo-jobs-test-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: bundle.memory,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TABLE_NAME: TEST_TABLE,
    DYNAMODB_ENDPOINT: db.endpoint,
    // A job that continues itself calls Lambda: here, a local stand-in.
    AWS_ENDPOINT_URL_LAMBDA: lambdaStub.endpoint,
    ...extraEnv,
  };
  const timeout = String(timeoutSeconds ?? bundle.timeout);
  const {
    status: code,
    stdout,
    stderr,
  } = await collect(process.execPath, [RUNNER, bundle.dir, eventsPath, resultsPath, timeout], env, {
    cwd: bundle.dir,
    inheritEnv: false,
  });
  if (code !== 0 || !existsSync(resultsPath)) throw new Error(`${name} bundle exited ${code}: ${stderr}`);
  const logs = `${stdout}\n${stderr}`
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { results: JSON.parse(readFileSync(resultsPath, 'utf8')), logs };
}

const recordA = () =>
  recordMerchants(db.deps(), [
    merchantRecordSchema.parse({ merchantId: 'merchant-a', onboardedAt: '2020-05-06' }),
  ]);

/** EMF documents that carry a given metric. */
const emf = (logs: Record<string, unknown>[], metric: string) =>
  logs.filter((l) => l._aws && metric in l) as (Record<string, unknown> & {
    _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
  })[];

describe('the bundled functions', () => {
  it('are minified ES module bundles with source maps, leaving out only the credential providers Lambda never reaches', () => {
    expect([...bundles.keys()].sort()).toEqual([
      'activate',
      'cart-policies',
      'expire',
      'notifier',
      'recorder',
    ]);
    for (const bundle of bundles.values()) {
      const code = readFileSync(join(bundle.dir, 'index.mjs'), 'utf8');
      expect(code.split('\n').length).toBeLessThan(200); // minified
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect(existsSync(join(bundle.dir, 'index.mjs.map'))).toBe(true);
      // What the bundle imports from outside itself: Node.js built-ins, and the providers left out.
      const imported = [...code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*"([@a-z][\w@./:-]*)"/g)].map(
        (m) => m[1] as string,
      );
      const outside = imported.filter((s) => !s.startsWith('node:') && !builtinModules.includes(s));
      expect(outside.length).toBeGreaterThan(0);
      // The size goal (docs/performance.md): a bigger bundle is a dependency or an import style that crept in.
      expect(statSync(join(bundle.dir, 'index.mjs')).size).toBeLessThanOrEqual(600 * 1024);
      for (const specifier of outside)
        expect(BUNDLE_EXTERNAL_MODULES).toContain(specifier.replace(/^(@[^/]+\/[^/]+).*$/, '$1'));
      expect(bundle.environment.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('activate: a scheduled event activates merchant A as of 2020-05-08 00:00; a warm re-run changes nothing', async () => {
    await recordA();
    const scheduled = { scheduledTime: '2020-05-07T16:00:00Z' }; // what EventBridge Scheduler sends at 00:00 Shanghai
    const run = await invoke('activate', [scheduled, scheduled]);
    expect(run.results).toMatchObject([
      {
        ok: {
          job: 'activate',
          reports: [{ asOf: sh('2020-05-08 00:00'), dryRun: false, changed: 1, failed: 0 }],
        },
      },
      { ok: { job: 'activate', reports: [{ asOf: sh('2020-05-08 00:00'), changed: 0, failed: 0 }] } },
    ]);
    expect(await getPromotion(db.deps(), 'merchant-a')).toMatchObject({
      status: 'ACTIVE',
      startsAt: sh('2020-05-08 00:00'),
    });
    // Both invocations publish their run metrics under { service, job }: the alarms' dimensions.
    const docs = emf(run.logs, 'Runs');
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      expect(doc).toMatchObject({ service: 'promo-jobs', job: 'activate', Runs: 1, Failed: 0 });
      expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: 'PromoJobs',
        Dimensions: [['service', 'job']],
      });
    }
    expect(docs.map((d) => d.Transitions)).toEqual([1, 0]);
    expect(lambdaStub.invocations).toEqual([]); // finished in time: no continuation
  });

  it('activate: a run out of time saves its place and continues itself asynchronously; the continuation finishes', async () => {
    await recordA();
    // Less time left than the stop margin (60 s): the run stops before reading and hands over.
    const first = await invoke('activate', [{ scheduledTime: '2020-05-07T16:00:00Z' }], {}, 59);
    const [stopped] = first.results as {
      ok: { reports: { complete: boolean; changed: number }[]; continuation: unknown };
    }[];
    expect(stopped?.ok.reports).toMatchObject([{ complete: false, changed: 0 }]);
    expect(lambdaStub.invocations).toEqual([
      {
        functionName: 'arn:aws:lambda:us-east-1:123456789012:function:promo-jobs-test-activate',
        invocationType: 'Event',
        payload: stopped?.ok.continuation,
      },
    ]);
    expect(stopped?.ok.continuation).toMatchObject({
      asOf: sh('2020-05-08 00:00'),
      resume: { asOf: sh('2020-05-08 00:00') },
    });
    expect((await getPromotion(db.deps(), 'merchant-a'))?.status).toBe('SCHEDULED');

    // The continuation runs only after its parent has ended, as Lambda runs it with the job's
    // reserved concurrency of 1 (the invoke is queued while the parent is still running).
    const second = await invoke('activate', [lambdaStub.invocations[0]?.payload]);
    expect(second.results).toMatchObject([
      { ok: { reports: [{ asOf: sh('2020-05-08 00:00'), complete: true, changed: 1 }] } },
    ]);
    expect((await getPromotion(db.deps(), 'merchant-a'))?.status).toBe('ACTIVE');
  });

  it('expire: a manual backfill { from, to } expires merchant A on its last day; a bad event names the field', async () => {
    await recordA();
    await runJob(db.deps(), 'activate', parseJobInput({ asOf: '2020-05-08T00:00:00+08:00' }));
    const run = await invoke('expire', [
      { from: '2020-06-01', to: '2020-06-10' },
      { asOf: '2020-06-06T23:59:00' },
    ]);
    const [backfill, bad] = run.results;
    expect((backfill as { ok: { reports: { changed: number }[] } }).ok.reports.map((r) => r.changed)).toEqual(
      [0, 0, 1, 0, 0, 1, 0, 0, 0, 0],
    );
    expect(bad).toEqual({
      error: { name: 'InputError', message: expect.stringMatching(/^asOf: must be an ISO 8601 instant/) },
    });
    expect((await getPromotion(db.deps(), 'merchant-a'))?.status).toBe('EXPIRED');
  });

  it('cart-policies: on 2020-09-06 00:00 a dry run changes nothing; the scheduled run puts the first policy in force for merchant B and announces the second; a warm re-run changes nothing', async () => {
    await recordMerchants(db.deps(), [
      merchantRecordSchema.parse({
        merchantId: 'merchant-b',
        onboardedAt: '2020-06-01',
        categories: ['apparel'],
        liveCartSources: ['shop', 'taobao'], // a third-party source: in the policies' audience
      }),
    ]);
    for (const policy of DEFAULT_CART_POLICIES) {
      await announcePolicy(db.deps(), cartPolicyInputSchema.parse(policy));
    }
    const [first, second] = DEFAULT_CART_POLICIES.map((p) => p.policyId);
    const scheduled = { scheduledTime: '2020-09-05T16:00:00Z' }; // 00:00 Shanghai on 2020-09-06
    const asOf = sh('2020-09-06 00:00');
    const transitions = {
      FLAG_CHANGED: 1, // live-room third-party flag → XINGTU_ONLY
      CART_POLICY_IN_FORCE: 1, // merchant B told the first policy is in force
      POLICY_IN_FORCE: 1,
      CART_POLICY_ANNOUNCED: 1, // merchant B told of the second (2020-10-09)
    };

    // A dry run reads the merchant × policy items (GetItem) and writes nothing.
    const before = await db.scanAll();
    const dry = await invoke('cart-policies', [{ ...scheduled, dryRun: true }]);
    expect(dry.results).toMatchObject([
      { ok: { job: 'cart-policies', reports: [{ asOf, dryRun: true, changed: 4, failed: 0, transitions }] } },
    ]);
    expect(await db.scanAll()).toEqual(before);

    const run = await invoke('cart-policies', [scheduled, scheduled]);
    expect(run.results).toMatchObject([
      {
        ok: {
          job: 'cart-policies',
          reports: [{ asOf, dryRun: false, complete: true, changed: 4, failed: 0, transitions }],
        },
      },
      {
        ok: {
          job: 'cart-policies',
          reports: [{ asOf, dryRun: false, complete: true, changed: 0, failed: 0 }],
        },
      },
    ]);
    expect((await listPolicies(db.deps())).map((p) => [p.policyId, p.status])).toEqual([
      [first, 'IN_FORCE'],
      [second, 'SCHEDULED'],
    ]);
    const notices = (await getMerchant(db.deps(), 'merchant-b'))?.cartPolicies ?? [];
    expect(notices.map((n) => [n.policyId, n.status, n.asOf])).toEqual([
      [second, 'ANNOUNCED', asOf],
      [first, 'IN_FORCE', asOf],
    ]);
    expect((await listStoredFlags(db.deps())).map((f) => [f.channel, f.scope, f.value])).toEqual([
      ['live', 'ALL', 'XINGTU_ONLY'],
    ]);
    // Run metrics under { service, job: cart-policies }, the alarms' dimensions; none for the dry run.
    const docs = emf(run.logs, 'Runs');
    expect(docs.map((d) => [d.job, d.Runs, d.Transitions, d.Failed])).toEqual([
      ['cart-policies', 1, 4, 0],
      ['cart-policies', 1, 0, 0],
    ]);
    expect(emf(dry.logs, 'Runs')).toEqual([]);
  });

  it('recorder: MerchantOnboarded records and corrects T; a late original is stale; MerchantViolation revokes; a refused one is dropped; a bad one fails', async () => {
    const event = (
      type: string,
      detail: Record<string, unknown>,
      n: number,
      time = '2020-05-06T02:00:00Z',
    ) => ({
      version: '0',
      id: `7bf73129-1428-4cd3-a780-95db273d1602-${n}`,
      'detail-type': type,
      source: 'marketplace.merchants',
      account: '123456789012',
      time,
      region: 'ap-east-1',
      resources: [],
      detail,
    });
    const run = await invoke('recorder', [
      event(
        'MerchantOnboarded',
        {
          merchantId: 'merchant-a',
          onboardedAt: '2020-05-06',
          categories: ['cosmetics'],
          liveCartSources: ['taobao', 'shop'],
        },
        1,
      ),
      event(
        'MerchantOnboarded',
        { merchantId: 'merchant-a', onboardedAt: '2020-05-07' },
        2,
        '2020-05-07T02:00:00Z',
      ),
      event('MerchantOnboarded', { merchantId: 'merchant-a', onboardedAt: '2020-05-06' }, 6), // the original, redelivered late
      event(
        'MerchantViolation',
        { merchantId: 'merchant-a', at: '2020-05-20T10:00:00+08:00', reason: 'counterfeit goods' },
        3,
      ),
      event(
        'MerchantViolation',
        { merchantId: 'merchant-a', at: '2020-05-21T10:00:00+08:00', reason: 'again' },
        4,
      ),
      event('MerchantOnboarded', { onboardedAt: '2020-05-07' }, 5),
    ]);
    expect(run.results).toEqual([
      {
        ok: {
          type: 'MerchantOnboarded',
          merchantId: 'merchant-a',
          outcome: 'created',
          occurredAt: sh('2020-05-06 10:00'),
        },
      },
      {
        ok: {
          type: 'MerchantOnboarded',
          merchantId: 'merchant-a',
          outcome: 'updated',
          occurredAt: sh('2020-05-07 10:00'),
        },
      },
      {
        ok: {
          type: 'MerchantOnboarded',
          merchantId: 'merchant-a',
          outcome: 'stale',
          occurredAt: sh('2020-05-06 10:00'),
        },
      },
      { ok: { type: 'MerchantViolation', merchantId: 'merchant-a', outcome: 'revoked' } },
      {
        ok: {
          type: 'MerchantViolation',
          merchantId: 'merchant-a',
          outcome: 'refused',
          detail: expect.stringContaining('already revoked at 2020-05-20T10:00:00.000+08:00'),
        },
      },
      { error: { name: 'InputError', message: 'detail.merchantId: is required' } },
    ]);
    const merchant = await getMerchant(db.deps(), 'merchant-a');
    expect(merchant?.profile).toMatchObject({
      onboardedOn: '2020-05-07',
      categories: ['cosmetics'],
      liveCartSources: ['shop', 'taobao'],
    });
    expect(merchant?.promotion).toMatchObject({
      status: 'REVOKED',
      startsAt: sh('2020-05-09 00:00'),
      revokedAt: sh('2020-05-20 10:00'),
      revokeReason: 'counterfeit goods',
    });
    expect(run.logs.find((l) => l.message === 'revocation refused')).toMatchObject({
      level: 'WARN',
      eventId: '7bf73129-1428-4cd3-a780-95db273d1602-4',
    });
    expect(emf(run.logs, 'RevocationsRefused')).toHaveLength(1);
    expect(run.logs.find((l) => l.message === 'stale onboarding ignored')).toMatchObject({
      level: 'WARN',
      eventId: '7bf73129-1428-4cd3-a780-95db273d1602-6',
    });
    expect(emf(run.logs, 'EventsStale')).toHaveLength(1);
  });

  describe('notifier', () => {
    const checkpointPath = join(work, 'stream-checkpoint.json');
    const drain = (
      handle: (records: StreamRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
    ) => db.drainStream(checkpointPath, handle);

    /** The stream records merchant A's recording and activation write, as Lambda's event shows them. */
    async function activationEvent() {
      await drain(async () => ({ batchItemFailures: [] })); // start after earlier tests' records
      await recordA();
      await runJob(db.deps(), 'activate', parseJobInput({ asOf: '2020-05-08T00:00:00+08:00' }));
      const records: Record<string, unknown>[] = [];
      await drain(async (batch) => {
        records.push(...(batch as unknown as Record<string, unknown>[]));
        return { batchItemFailures: [] };
      });
      return {
        Records: records.map((record) => {
          const dynamodb = record.dynamodb as Record<string, unknown>;
          const created = dynamodb.ApproximateCreationDateTime;
          return {
            eventID: record.eventID,
            eventName: record.eventName,
            eventVersion: '1.1',
            eventSource: 'aws:dynamodb',
            awsRegion: LOCAL_REGION,
            dynamodb: {
              ...dynamodb,
              ApproximateCreationDateTime: created instanceof Date ? created.getTime() / 1000 : created,
            },
            eventSourceARN: `arn:aws:dynamodb:${LOCAL_REGION}:123456789012:table/${TEST_TABLE}/stream/2020-05-01T00:00:00.000`,
          };
        }),
      };
    }

    const env = () => ({ SNS_TOPIC_ARN: TOPIC_ARN, AWS_ENDPOINT_URL_SNS: stub.endpoint });

    it('publishes PROMOTION_ACTIVATED for merchant A to the topic with PublishBatch and reports no failures', async () => {
      const event = await activationEvent();
      expect(event.Records.length).toBeGreaterThanOrEqual(3); // profile, promotion, activation, job run
      const run = await invoke('notifier', [event], env());
      expect(run.results).toEqual([{ ok: { batchItemFailures: [] } }]);
      expect(stub.published).toHaveLength(1);
      const [entry] = stub.published;
      expect(entry?.topicArn).toBe(TOPIC_ARN);
      expect(entry?.attributes).toEqual({
        type: 'PROMOTION_ACTIVATED',
        merchantId: 'merchant-a',
        programId: 'NEW_MERCHANT_FEE',
      });
      expect(JSON.parse(entry?.message ?? '{}')).toMatchObject({
        eventId: entry?.id,
        type: 'PROMOTION_ACTIVATED',
        merchantId: 'merchant-a',
        effectiveAt: sh('2020-05-08 00:00'),
        data: { lastDay: '2020-06-06', days: 30 },
      });
      expect(emf(run.logs, 'NoticesPublished')[0]).toMatchObject({ NoticesPublished: 1, NoticesFailed: 0 });
    });

    it('when SNS keeps failing, reports the activation record as the batch-item failure to redeliver from', async () => {
      const event = await activationEvent();
      const activation = event.Records.map((r) => ({
        eventName: r.eventName,
        dynamodb: r.dynamodb as unknown as { SequenceNumber: string; NewImage?: { status?: { S?: string } } },
      })).find((r) => r.eventName === 'MODIFY' && r.dynamodb.NewImage?.status?.S === 'ACTIVE');
      if (!activation) throw new Error('no activation record in the stream');
      stub.failWith = 'InternalError';
      const run = await invoke('notifier', [event], env());
      expect(run.results).toEqual([
        { ok: { batchItemFailures: [{ itemIdentifier: activation.dynamodb.SequenceNumber }] } },
      ]);
      expect(stub.published).toEqual([]);
      expect(stub.requests).toBeGreaterThan(1); // retried before giving the record back
    });
  });
});
