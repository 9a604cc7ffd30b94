// The organisation's default Lambda function: every function in this app is one of these, so runtime,
// architecture, bundling, logging and observability settings are decided once, here.
import { join } from 'node:path';
import { ArnFormat, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/lambda/runtime';
import type { TableAccess } from '../../shared/store/access';
import { BUNDLE_BANNER, BUNDLE_EXTERNAL_MODULES, BUNDLE_MAIN_FIELDS, BUNDLE_TARGET } from '../bundling';
import type { PromoTable } from './promo-table';

/** The repository root: bundling entries and the lock file are found from here, not from the cwd. */
const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/**
 * Pinned, not NODEJS_LATEST: a runtime change is a reviewed code change. 22.x is the newest runtime
 * closest to the Node.js 20 the tests run on here; the code runs on both.
 */
export const RUNTIME = Runtime.NODEJS_22_X;
/** Logs are kept long enough to investigate a whole 30-day promotion window after the fact. */
export const LOG_RETENTION = RetentionDays.THREE_MONTHS;

export interface PromoFunctionProps {
  /** The folder under functions/ whose handler.ts this function runs; also the name's suffix. */
  name: string;
  /** Physical names start with the stage's prefix (`promo-jobs-prod-activate`). */
  prefix: string;
  description: string;
  /** Chosen per function; see docs/infrastructure.md ("Sizing"). */
  memorySize: number;
  timeout: Duration;
  /** At most this many invocations at once (reserved from the account's pool); default: unreserved. */
  reservedConcurrency?: number;
  environment?: Record<string, string>;
}

export class PromoFunction extends Construct {
  public readonly fn: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;
  public readonly functionName: string;

  constructor(scope: Construct, id: string, props: PromoFunctionProps) {
    super(scope, id);
    this.functionName = `${props.prefix}-${props.name}`;
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${this.functionName}`,
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: it may write to this log group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${this.functionName}: only what its code does`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      functionName: this.functionName,
      description: props.description,
      entry: join(PROJECT_ROOT, 'functions', props.name, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        // Stack traces point into the TypeScript sources, through the bundle's source map.
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...props.environment,
      },
      bundling: {
        // The local esbuild (a devDependency): no Docker.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: BUNDLE_MAIN_FIELDS,
        banner: BUNDLE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The SDK versions we pin and test against go into the bundle; the runtime's copy changes
        // under us between deployments. Only the credential providers Lambda never reaches stay out.
        bundleAwsSDK: true,
        externalModules: BUNDLE_EXTERNAL_MODULES,
      },
    });
  }

  /** Names the table in TABLE_NAME and grants exactly the listed actions (no wildcards). */
  bindTable(table: PromoTable, access: TableAccess): this {
    this.fn.addEnvironment('TABLE_NAME', table.table.tableName);
    for (const statement of table.statementsFor(access)) this.role.addToPrincipalPolicy(statement);
    return this;
  }

  /**
   * Lets the function invoke itself (a job that runs out of time continues in a new asynchronous
   * invocation, shared/lambda/job-handler.ts). The ARN is built from the name: referencing the
   * function's own ARN attribute from its role would be a circular dependency.
   */
  allowSelfInvoke(): this {
    const arn = Stack.of(this).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: this.functionName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ effect: Effect.ALLOW, actions: ['lambda:InvokeFunction'], resources: [arn] }),
    );
    return this;
  }

  /** Names the topic in SNS_TOPIC_ARN and grants sns:Publish (and the topic key's data-key use). */
  bindTopic(topic: ITopic): this {
    this.fn.addEnvironment('SNS_TOPIC_ARN', topic.topicArn);
    topic.grantPublish(this.role);
    return this;
  }
}
