/**
 * CDK assertions on the synthesized MigransStack template: encryption and no public access on the
 * stateful resources, their pinned logical ids, the Kinesis event source settings, alarms, the API and
 * its token, the environment contract (AWS_ENV) and least-privilege IAM per role; the querynode
 * health check (run for real against a stand-in server), architecture, Spot and Fargate sizes; and the
 * idle cost table of lib/infra/README.md, whose quantities are recounted from the templates.
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`): these tests check the template, not the code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { DynamoDbKvStore } from '../../lib/adapters/aws/dynamodb-kv-store.ts';
import { WalPositionIndex } from '../../lib/adapters/aws/kinesis-wal-index.ts';
import { AWS_ENV } from '../../lib/aws/aws-env.ts';
import { READY_ROUTE } from '../../lib/api/health.ts';
import { INGEST_EVENT_SOURCE } from '../../lib/infra/ingest-event-source.ts';
import { TOKEN_SECRET_LOGICAL_ID } from '../../lib/infra/migrans-api.ts';
import { MIGRANS_STACK_DEFAULTS, MigransStack, resolveProps, type MigransStackProps } from '../../lib/infra/migrans-stack.ts';
import { NATIVE_MODULES, REPO_ROOT } from '../../lib/infra/migrans-function.ts';
import { STATEFUL_LOGICAL_IDS } from '../../lib/infra/migrans-storage.ts';
import { FARGATE_MEMORY_MIB, QUERYNODE_HEALTH_CHECK, QUERYNODE_HEALTH_CHECK_COMMAND, QUERYNODE_READY_PATH } from '../../lib/infra/querynode-service.ts';
import { propsFromContext } from '../../lib/infra/stack-context.ts';
import { StackPropsError } from '../../lib/infra/stack-props-error.ts';

/** A template resource as JSON. */
interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** One IAM policy statement, normalized to arrays. */
interface Statement {
  actions: string[];
  resources: unknown[];
}

const outdirs: string[] = [];

/** Synthesizes a stack without bundling the Lambda code. */
function synth(props: MigransStackProps = {}): { stack: MigransStack; template: Template } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-cdk-test-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MigransStack(app, 'MigransTest', props);
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource. */
function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** All resources of a type, by logical id. */
function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** Every IAM statement attached (through AWS::IAM::Policy) to the role with this logical id. */
function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const policy of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const roles = policy.Properties?.Roles as unknown[];
    if (!roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    const doc = policy.Properties?.PolicyDocument as { Statement: { Effect: string; Action: string | string[]; Resource: unknown }[] };
    for (const s of doc.Statement) {
      assert.equal(s.Effect, 'Allow');
      out.push({ actions: [s.Action].flat(), resources: [s.Resource].flat() });
    }
  }
  return out;
}

/** Actions granted to a role, optionally only on resources whose JSON mentions `resourceLogicalId`. */
function actionsOf(template: Template, roleLogicalId: string, resourceLogicalId?: string): Set<string> {
  const actions = new Set<string>();
  for (const s of statementsOf(template, roleLogicalId)) {
    if (resourceLogicalId && !JSON.stringify(s.resources).includes(`"${resourceLogicalId}"`)) continue;
    for (const a of s.actions) actions.add(a);
  }
  return actions;
}

/** The role logical id of a Lambda function (its `Role: Fn::GetAtt [role, Arn]`). */
function functionRole(template: Template, functionLogicalId: string): string {
  const fn = template.toJSON().Resources[functionLogicalId] as Resource;
  return (fn.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

/** A Lambda function's environment variables. */
function functionEnv(template: Template, functionLogicalId: string): Record<string, unknown> {
  const fn = template.toJSON().Resources[functionLogicalId] as Resource;
  return (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
}

/** Whether any of `actions` matches `pattern` (IAM wildcards in granted actions are expanded). */
function grants(actions: Set<string>, action: string): boolean {
  for (const a of actions) {
    const re = new RegExp(`^${a.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    if (re.test(action)) return true;
  }
  return false;
}

/** What an adapter's `createTable` (tests, development) sends to DynamoDB: the schema it expects. */
async function createTableInput(createTable: (name: string, client: DynamoDBClient) => Promise<void>): Promise<CreateTableCommandInput> {
  let input: CreateTableCommandInput | undefined;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof CreateTableCommand) input = command.input;
      return { Table: { TableStatus: 'ACTIVE' } }; // DescribeTable, while createTable waits for ACTIVE
    },
  } as unknown as DynamoDBClient;
  await createTable('migrans-schema-probe', client);
  assert.ok(input, 'createTable sent a CreateTable');
  return input;
}

let dflt: { stack: MigransStack; template: Template };
let ids: { api: string; ingest: string; indexer: string; compactor: string };
let roles: { api: string; ingest: string; indexer: string; compactor: string; querynode: string };

before(() => {
  dflt = synth();
  const f = dflt.stack.functions;
  ids = {
    api: logicalId(dflt.stack, f.api.fn),
    ingest: logicalId(dflt.stack, f.ingest.fn),
    indexer: logicalId(dflt.stack, f.indexer.fn),
    compactor: logicalId(dflt.stack, f.compactor.fn),
  };
  const taskRole = dflt.stack.querynodes?.taskRole;
  assert.ok(taskRole, 'the default stack runs querynodes on Fargate');
  roles = {
    api: functionRole(dflt.template, ids.api),
    ingest: functionRole(dflt.template, ids.ingest),
    indexer: functionRole(dflt.template, ids.indexer),
    compactor: functionRole(dflt.template, ids.compactor),
    querynode: logicalId(dflt.stack, taskRole),
  };
});

after(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('stateful resources', () => {
  it('keep fixed logical ids and are retained by default', () => {
    const t = dflt.template.toJSON().Resources as Record<string, Resource>;
    const expected: [string, string][] = [
      [STATEFUL_LOGICAL_IDS.bucket, 'AWS::S3::Bucket'],
      [STATEFUL_LOGICAL_IDS.table, 'AWS::DynamoDB::Table'],
      [STATEFUL_LOGICAL_IDS.walIndexTable, 'AWS::DynamoDB::Table'],
      [STATEFUL_LOGICAL_IDS.stream, 'AWS::Kinesis::Stream'],
      [TOKEN_SECRET_LOGICAL_ID, 'AWS::SecretsManager::Secret'],
    ];
    // Literal ids, not the constants alone: renaming a constant must fail here too.
    assert.deepEqual(
      expected.map(([id]) => id),
      ['MigransBucket', 'MigransKvTable', 'MigransWalIndexTable', 'MigransWalStream', 'MigransTokenSecret'],
    );
    for (const [id, type] of expected) {
      assert.equal(t[id]?.Type, type, id);
      assert.equal(t[id]?.DeletionPolicy, 'Retain', id);
      assert.equal(t[id]?.UpdateReplacePolicy, 'Retain', id);
    }
    assert.equal(Object.keys(resourcesOf(dflt.template, 'AWS::S3::Bucket')).length, 1);
    assert.equal(Object.keys(resourcesOf(dflt.template, 'AWS::DynamoDB::Table')).length, 2);
    assert.equal(Object.keys(resourcesOf(dflt.template, 'AWS::Kinesis::Stream')).length, 1);
  });

  it('the bucket is encrypted, private, TLS-only and unversioned', () => {
    dflt.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: Match.absent(),
    });
    dflt.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: STATEFUL_LOGICAL_IDS.bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('the tables have the key schemas the adapters create them with, on-demand billing and encryption', async () => {
    const t = dflt.template.toJSON().Resources as Record<string, Resource>;
    const kv = await createTableInput((name, client) => DynamoDbKvStore.createTable(name, client));
    assert.deepEqual(t[STATEFUL_LOGICAL_IDS.table]?.Properties, {
      KeySchema: kv.KeySchema,
      AttributeDefinitions: kv.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    const walIndex = await createTableInput((name, client) => WalPositionIndex.createTable(name, client));
    assert.deepEqual(t[STATEFUL_LOGICAL_IDS.walIndexTable]?.Properties, {
      KeySchema: walIndex.KeySchema,
      AttributeDefinitions: walIndex.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
    });
    assert.deepEqual((t[STATEFUL_LOGICAL_IDS.walIndexTable]?.Properties?.AttributeDefinitions as unknown[])[1], { AttributeName: 's', AttributeType: 'N' });
  });

  it('the stream is KMS-encrypted, keeps 7 days and has the default shard count', () => {
    dflt.template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      RetentionPeriodHours: 168,
      ShardCount: MIGRANS_STACK_DEFAULTS.shardCount,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
    });
  });

  it('the token secret is generated at deploy time (no value in the template)', () => {
    dflt.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
      SecretString: Match.absent(),
    });
  });
});

describe('functions and the environment contract', () => {
  it('every function runs Node 22 on x86_64 with the shared variables', () => {
    const fns = resourcesOf(dflt.template, 'AWS::Lambda::Function');
    assert.equal(Object.keys(fns).length, 4);
    for (const [role, id] of Object.entries(ids)) {
      const props = fns[id]?.Properties ?? {};
      assert.equal(props.Runtime, 'nodejs22.x', role);
      assert.deepEqual(props.Architectures, ['x86_64'], role);
      assert.equal(props.Handler, 'index.handler', role);
      const env = functionEnv(dflt.template, id);
      assert.deepEqual(env[AWS_ENV.bucket], { Ref: STATEFUL_LOGICAL_IDS.bucket }, role);
      assert.deepEqual(env[AWS_ENV.table], { Ref: STATEFUL_LOGICAL_IDS.table }, role);
      assert.deepEqual(env[AWS_ENV.walIndexTable], { Ref: STATEFUL_LOGICAL_IDS.walIndexTable }, role);
      assert.deepEqual(env[AWS_ENV.stream], { Ref: STATEFUL_LOGICAL_IDS.stream }, role);
      assert.equal(env.MIGRANS_SEAL_ROWS, String(MIGRANS_STACK_DEFAULTS.sealRows), role);
      assert.equal(env.MIGRANS_MAX_SEGMENT_BYTES, String(MIGRANS_STACK_DEFAULTS.maxSegmentBytes), role);
      assert.equal(env.NODE_OPTIONS, '--enable-source-maps', role);
      // The token never travels in plain environment variables; only its secret's ARN does.
      assert.equal(env[AWS_ENV.token], undefined, role);
    }
  });

  it('api, ingest and the compactor know the indexer, api knows the token secret and the querynode port', () => {
    // lib/aws/{api,ingest,compactor}-role.ts refuse to start without it.
    for (const role of ['api', 'ingest', 'compactor'] as const) {
      assert.deepEqual(functionEnv(dflt.template, ids[role])[AWS_ENV.indexerFunction], { Ref: ids.indexer }, role);
    }
    assert.equal(functionEnv(dflt.template, ids.indexer)[AWS_ENV.indexerFunction], undefined);
    const api = functionEnv(dflt.template, ids.api);
    assert.deepEqual(api[AWS_ENV.tokenSecretArn], { Ref: TOKEN_SECRET_LOGICAL_ID });
    assert.equal(api[AWS_ENV.querynodePort], String(MIGRANS_STACK_DEFAULTS.querynodePort));
    assert.equal(api[AWS_ENV.replicas], '1', 'the api function picks holders by the count the querynodes load by');
    for (const role of ['ingest', 'indexer', 'compactor'] as const) {
      const env = functionEnv(dflt.template, ids[role]);
      assert.equal(env[AWS_ENV.tokenSecretArn], undefined, role);
    }
  });

  it('the indexer has room for index builds; only the api function is in the VPC', () => {
    dflt.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'migrans-indexer' }) },
      MemorySize: 3008,
      Timeout: 900,
      EphemeralStorage: { Size: 10240 },
    });
    const fns = resourcesOf(dflt.template, 'AWS::Lambda::Function');
    assert.ok(fns[ids.api]?.Properties?.VpcConfig, 'api in the VPC');
    for (const role of ['ingest', 'indexer', 'compactor'] as const) assert.equal(fns[ids[role]]?.Properties?.VpcConfig, undefined, role);
  });

  it('the querynode container gets the contract, the token secret, the port and the seal size', () => {
    dflt.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: String(MIGRANS_STACK_DEFAULTS.querynodeCpu),
      Memory: String(MIGRANS_STACK_DEFAULTS.querynodeMemoryMiB),
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'querynode',
          PortMappings: [{ ContainerPort: MIGRANS_STACK_DEFAULTS.querynodePort, Protocol: 'tcp' }],
          Environment: Match.arrayWith([
            { Name: AWS_ENV.bucket, Value: { Ref: STATEFUL_LOGICAL_IDS.bucket } },
            { Name: AWS_ENV.table, Value: { Ref: STATEFUL_LOGICAL_IDS.table } },
            { Name: AWS_ENV.walIndexTable, Value: { Ref: STATEFUL_LOGICAL_IDS.walIndexTable } },
            { Name: AWS_ENV.stream, Value: { Ref: STATEFUL_LOGICAL_IDS.stream } },
            { Name: 'MIGRANS_SEAL_ROWS', Value: String(MIGRANS_STACK_DEFAULTS.sealRows) },
            { Name: 'MIGRANS_MAX_SEGMENT_BYTES', Value: String(MIGRANS_STACK_DEFAULTS.maxSegmentBytes) },
            // bin/querynode.ts checks the API token (lib/aws/api-token.ts) and does not start without it.
            { Name: AWS_ENV.tokenSecretArn, Value: { Ref: TOKEN_SECRET_LOGICAL_ID } },
            { Name: AWS_ENV.querynodePort, Value: String(MIGRANS_STACK_DEFAULTS.querynodePort) },
            { Name: AWS_ENV.replicas, Value: '1' },
          ]),
        }),
      ],
    });
  });
});

describe('ingest event source', () => {
  it('reads every shard in order with bisection, partial batch responses, a max age and an on-failure queue', () => {
    const s = INGEST_EVENT_SOURCE;
    const queues = resourcesOf(dflt.template, 'AWS::SQS::Queue');
    const mapping = Object.values(resourcesOf(dflt.template, 'AWS::Lambda::EventSourceMapping'));
    assert.equal(mapping.length, 1);
    const m = mapping[0]?.Properties ?? {};
    assert.deepEqual(m.FunctionName, { Ref: ids.ingest });
    assert.deepEqual(m.EventSourceArn, { 'Fn::GetAtt': [STATEFUL_LOGICAL_IDS.stream, 'Arn'] });
    assert.equal(m.StartingPosition, 'TRIM_HORIZON');
    assert.equal(m.BatchSize, 100);
    assert.equal(m.BisectBatchOnFunctionError, true);
    assert.deepEqual(m.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(m.MaximumRetryAttempts, 10);
    assert.equal(m.MaximumRecordAgeInSeconds, 86_400);
    assert.equal(m.ParallelizationFactor, 1);
    assert.equal(s.parallelizationFactor, 1);
    const dest = (m.DestinationConfig as { OnFailure: { Destination: { 'Fn::GetAtt': [string, string] } } }).OnFailure.Destination['Fn::GetAtt'];
    assert.equal(dest[1], 'Arn');
    assert.equal(queues[dest[0]]?.Properties?.SqsManagedSseEnabled, true, 'the failure queue is encrypted');
  });

  it('an alarm fires when the ingest function lags the stream by more than a minute for 5 minutes', () => {
    dflt.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.ingest } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 60_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
    dflt.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
  });

  it('the indexer is invoked asynchronously with retries and an encrypted failure queue', () => {
    dflt.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.indexer },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
    });
    for (const q of Object.values(resourcesOf(dflt.template, 'AWS::SQS::Queue'))) assert.equal(q.Properties?.SqsManagedSseEnabled, true);
  });

  it('the ingest function also runs every minute on its own schedule, to seal idle channels without the compactor', () => {
    dflt.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.ingest, 'Arn'] } })],
    });
  });

  it("an alarm fires, per channel, when a channel's checkpoint age stays over 2 hours", () => {
    const alarms = Object.values(resourcesOf(dflt.template, 'AWS::CloudWatch::Alarm')).filter((a) => Array.isArray(a.Properties?.Metrics));
    const alarm = alarms.find((a) => JSON.stringify(a.Properties?.Metrics).includes('CheckpointAgeSeconds'));
    assert.ok(alarm, 'a checkpoint-age alarm exists');
    const p = alarm.Properties!;
    assert.equal(p.Threshold, 7200);
    assert.equal(p.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(p.TreatMissingData, 'notBreaching');
    const [query] = p.Metrics as { Expression: unknown; Period: number; ReturnData: boolean }[];
    const text = JSON.stringify(query.Expression);
    // GROUP BY Channel: each channel is its own contributor, alarming on its own.
    assert.match(text, /SELECT MAX\(CheckpointAgeSeconds\) FROM SCHEMA\(\\"Migrans\\", Stream, Channel\) WHERE Stream = '/);
    assert.match(text, /GROUP BY Channel/);
    assert.ok(text.includes(JSON.stringify(dflt.stack.resolve(dflt.stack.storage.stream.streamName))), "scoped to this stack's stream");
    assert.equal(query.Period, 60);
    assert.equal(query.ReturnData, true);
  });

  it('an alarm fires when the idle-channel sweep has not completed for 10 minutes (no data counts as failing)', () => {
    dflt.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Migrans',
      MetricName: 'IdleSweeps',
      Dimensions: [{ Name: 'Stream', Value: dflt.stack.resolve(dflt.stack.storage.stream.streamName) }],
      Statistic: 'Sum',
      Period: 600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('the compactor runs every minute', () => {
    dflt.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.compactor, 'Arn'] } })],
    });
  });
});

describe('API', () => {
  it('proxies /v2/{proxy+} to the api function, throttled and access-logged', () => {
    dflt.template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    dflt.template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'v2' });
    dflt.template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    const methods = Object.values(resourcesOf(dflt.template, 'AWS::ApiGateway::Method'));
    assert.equal(methods.length, 1, 'one method: ANY on /v2/{proxy+}, nothing on / or /v2');
    const method = methods[0]?.Properties ?? {};
    assert.equal(method.HttpMethod, 'ANY');
    const integration = method.Integration as { Type: string; Uri: unknown };
    assert.equal(integration.Type, 'AWS_PROXY');
    assert.equal(JSON.stringify(integration.Uri).includes(`"${ids.api}"`), true, 'the integration calls the api function');
    dflt.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: MIGRANS_STACK_DEFAULTS.apiRateLimit,
          ThrottlingBurstLimit: MIGRANS_STACK_DEFAULTS.apiBurstLimit,
        }),
      ],
    });
  });

  it('the function and the querynodes check the token: the secret exists, its ARN is in the env, and only their roles may read it', () => {
    dflt.template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    assert.deepEqual(functionEnv(dflt.template, ids.api)[AWS_ENV.tokenSecretArn], { Ref: TOKEN_SECRET_LOGICAL_ID });
    for (const role of ['api', 'querynode'] as const) {
      assert.equal(grants(actionsOf(dflt.template, roles[role], TOKEN_SECRET_LOGICAL_ID), 'secretsmanager:GetSecretValue'), true, `${role} reads the token secret`);
    }
    for (const role of ['ingest', 'indexer', 'compactor'] as const) {
      assert.equal(grants(actionsOf(dflt.template, roles[role]), 'secretsmanager:GetSecretValue'), false, `${role} must not read the token`);
    }
    // Only API Gateway may invoke the api function.
    const perms = Object.values(resourcesOf(dflt.template, 'AWS::Lambda::Permission')).filter((p) => JSON.stringify(p.Properties?.FunctionName).includes(`"${ids.api}"`));
    assert.notEqual(perms.length, 0, 'API Gateway may invoke the api function');
    for (const p of perms) assert.equal(p.Properties?.Principal, 'apigateway.amazonaws.com');
  });
});

describe('cheaper edges', () => {
  it("apiType 'http': an HTTP API routes ANY /v2/{proxy+} to the api function on payload 2.0, on a throttled, access-logged $default stage, with no CORS and no REST API", () => {
    const { stack, template } = synth({ apiType: 'http' });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    const api = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Api'))[0]?.Properties ?? {};
    assert.equal(api.ProtocolType, 'HTTP');
    assert.equal(api.CorsConfiguration, undefined, 'no cross-origin access by default');
    const routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route'));
    assert.deepEqual(
      routes.map((r) => r.Properties?.RouteKey),
      ['ANY /v2/{proxy+}'],
      'one route: nothing else reaches the function',
    );
    const apiFn = logicalId(stack, stack.functions.api.fn);
    const integration = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'))[0]?.Properties ?? {};
    assert.equal(integration.IntegrationType, 'AWS_PROXY');
    assert.equal(integration.PayloadFormatVersion, '2.0', 'lib/aws/api-role.ts reads payload 2.0 events');
    assert.ok(JSON.stringify(integration.IntegrationUri).includes(`"${apiFn}"`), 'the integration calls the api function');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: MIGRANS_STACK_DEFAULTS.apiRateLimit, ThrottlingBurstLimit: MIGRANS_STACK_DEFAULTS.apiBurstLimit },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
    const perms = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter((p) => JSON.stringify(p.Properties?.FunctionName).includes(`"${apiFn}"`));
    assert.notEqual(perms.length, 0, 'API Gateway may invoke the api function');
    for (const p of perms) assert.equal(p.Properties?.Principal, 'apigateway.amazonaws.com');
    assert.throws(() => resolveProps({ apiType: 'websocket' as never }), /apiType must be 'rest' or 'http', got "websocket"/);
  });

  it('the stream keeps records 7 days by default, 24 h (no extended retention) when asked', () => {
    dflt.template.hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: 168 });
    synth({ streamRetentionHours: 24 }).template.hasResourceProperties('AWS::Kinesis::Stream', { RetentionPeriodHours: 24 });
    assert.throws(() => resolveProps({ streamRetentionHours: 12 }), /streamRetentionHours must be an integer in \[24, 8760\], got 12/);
  });

  it('reserved concurrency for ingest and the indexer when asked, none by default', () => {
    const fns = (t: Template) => resourcesOf(t, 'AWS::Lambda::Function');
    for (const id of Object.values(ids)) assert.equal(fns(dflt.template)[id]?.Properties?.ReservedConcurrentExecutions, undefined, `${id} reserves nothing by default`);
    const { stack, template } = synth({ ingestReservedConcurrency: 4, indexerReservedConcurrency: 10 });
    assert.equal(fns(template)[logicalId(stack, stack.functions.ingest.fn)]?.Properties?.ReservedConcurrentExecutions, 4);
    assert.equal(fns(template)[logicalId(stack, stack.functions.indexer.fn)]?.Properties?.ReservedConcurrentExecutions, 10);
    assert.equal(fns(template)[logicalId(stack, stack.functions.api.fn)]?.Properties?.ReservedConcurrentExecutions, undefined);
    assert.throws(() => resolveProps({ indexerReservedConcurrency: -1 }), /indexerReservedConcurrency must be an integer in \[0, 1000\], got -1/);
  });
});

describe('least privilege', () => {
  const { bucket, table, walIndexTable, stream } = STATEFUL_LOGICAL_IDS;
  type Role = keyof typeof roles;
  /** Asserts that `role` may do each action (on `resource`, when given). */
  const allowed = (role: Role, resource: string | undefined, ...actions: string[]) => {
    for (const x of actions) assert.equal(grants(actionsOf(dflt.template, roles[role], resource), x), true, `${role} should be allowed ${x}${resource ? ` on ${resource}` : ''}`);
  };
  /** Asserts that `role` may do none of the actions (on `resource`, or anywhere). */
  const denied = (role: Role, resource: string | undefined, ...actions: string[]) => {
    for (const x of actions)
      assert.equal(grants(actionsOf(dflt.template, roles[role], resource), x), false, `${role} should not be allowed ${x}${resource ? ` on ${resource}` : ''}`);
  };
  /** Asserts that `role` may invoke the indexer function and no other. */
  const invokesOnlyIndexer = (role: Role) => {
    const invoke = statementsOf(dflt.template, roles[role]).filter((s) => s.actions.includes('lambda:InvokeFunction'));
    assert.equal(invoke.length, 1, role);
    for (const r of invoke[0]?.resources ?? []) assert.equal(JSON.stringify(r).includes(`"${ids.indexer}"`), true, `${role}: invoke only the indexer: ${JSON.stringify(r)}`);
  };
  const TABLE_RW = [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:BatchGetItem',
    'dynamodb:PutItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:PartiQLInsert',
    'dynamodb:PartiQLUpdate',
  ];

  it('api: table and WAL index read/write, WAL append but no WAL reads, bucket read-only, the secret, invokes only the indexer', () => {
    allowed('api', table, ...TABLE_RW);
    allowed('api', walIndexTable, ...TABLE_RW);
    allowed('api', stream, 'kinesis:PutRecords', 'kinesis:ListShards');
    denied('api', undefined, 'kinesis:GetRecords', 'kinesis:GetShardIterator'); // the proxy never reads the WAL
    allowed('api', bucket, 's3:GetObject');
    denied('api', undefined, 's3:PutObject', 's3:DeleteObject');
    invokesOnlyIndexer('api');
  });

  it('ingest: reads and appends to the WAL, writes the bucket, invokes only the indexer', () => {
    allowed('ingest', stream, 'kinesis:GetRecords', 'kinesis:GetShardIterator');
    allowed('ingest', stream, 'kinesis:PutRecords'); // the idle sweep appends flush records
    allowed('ingest', bucket, 's3:GetObject', 's3:PutObject');
    allowed('ingest', table, ...TABLE_RW);
    allowed('ingest', walIndexTable, ...TABLE_RW);
    invokesOnlyIndexer('ingest');
  });

  it('indexer: table and bucket only, no WAL', () => {
    allowed('indexer', bucket, 's3:GetObject', 's3:PutObject');
    allowed('indexer', table, ...TABLE_RW);
    assert.equal(actionsOf(dflt.template, roles.indexer, walIndexTable).size, 0, 'indexer: nothing on the WAL index');
    assert.deepEqual(
      [...actionsOf(dflt.template, roles.indexer)].filter((x) => x.startsWith('kinesis:')),
      [],
      'indexer: no Kinesis',
    );
    denied('indexer', undefined, 'lambda:InvokeFunction', 'secretsmanager:GetSecretValue');
  });

  it('compactor: appends to and reads the WAL, rewrites the bucket, invokes only the indexer', () => {
    allowed('compactor', stream, 'kinesis:PutRecords', 'kinesis:GetRecords', 'kinesis:GetShardIterator');
    allowed('compactor', bucket, 's3:GetObject', 's3:PutObject', 's3:DeleteObject');
    allowed('compactor', table, ...TABLE_RW);
    allowed('compactor', walIndexTable, ...TABLE_RW);
    invokesOnlyIndexer('compactor');
  });

  it('querynode: registry writes in the table, tails and appends (deletes by filter) to the WAL, only reads the bucket', () => {
    allowed('querynode', table, ...TABLE_RW); // it registers itself
    allowed('querynode', walIndexTable, ...TABLE_RW);
    allowed('querynode', stream, 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:PutRecords');
    allowed('querynode', bucket, 's3:GetObject');
    denied('querynode', undefined, 's3:PutObject', 's3:DeleteObject', 'lambda:InvokeFunction');
  });

  it('no policy grants a wildcard action or a wildcard resource on data actions', () => {
    for (const role of Object.values(roles)) {
      for (const s of statementsOf(dflt.template, role)) {
        for (const x of s.actions) assert.equal(/^[a-z0-9]+:\*$/.test(x) || x === '*', false, `${role}: ${x}`);
        const data = s.actions.some((x) => /^(s3|dynamodb|kinesis|secretsmanager):/.test(x));
        if (data) assert.equal(s.resources.includes('*'), false, `${role}: ${s.actions.join(',')} on *`);
      }
    }
  });
});

describe('querynode network', () => {
  it('the internal port is reachable only from the api function security group', () => {
    const sgs = resourcesOf(dflt.template, 'AWS::EC2::SecurityGroup');
    const apiSgIds = (resourcesOf(dflt.template, 'AWS::Lambda::Function')[ids.api]?.Properties?.VpcConfig as { SecurityGroupIds: unknown[] }).SecurityGroupIds;
    assert.equal(apiSgIds.length, 1);
    const apiSg = (apiSgIds[0] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const ingress = Object.values(resourcesOf(dflt.template, 'AWS::EC2::SecurityGroupIngress'));
    assert.equal(ingress.length, 1);
    const rule = ingress[0]?.Properties ?? {};
    assert.equal(rule.IpProtocol, 'tcp');
    assert.equal(rule.FromPort, MIGRANS_STACK_DEFAULTS.querynodePort);
    assert.equal(rule.ToPort, MIGRANS_STACK_DEFAULTS.querynodePort);
    assert.deepEqual(rule.SourceSecurityGroupId, { 'Fn::GetAtt': [apiSg, 'GroupId'] });
    assert.equal(rule.CidrIp, undefined);
    const querynodeSg = logicalId(dflt.stack, dflt.stack.querynodes!.securityGroup);
    assert.deepEqual(rule.GroupId, { 'Fn::GetAtt': [querynodeSg, 'GroupId'] });
    for (const sg of Object.values(sgs)) assert.equal(sg.Properties?.SecurityGroupIngress, undefined, 'no inline (e.g. 0.0.0.0/0) ingress');
    dflt.template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: MIGRANS_STACK_DEFAULTS.querynodeCount,
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('autoscales on CPU between querynodeCount and twice that', () => {
    dflt.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: MIGRANS_STACK_DEFAULTS.querynodeCount,
      MaxCapacity: 2 * MIGRANS_STACK_DEFAULTS.querynodeCount,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    dflt.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }),
    });
  });

  it('a two-AZ VPC with S3 and DynamoDB gateway endpoints and one NAT gateway', () => {
    dflt.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    dflt.template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    dflt.template.resourceCountIs('AWS::EC2::Subnet', 4);
  });
});

describe('outputs', () => {
  it('name the API URL, the data resources and how to read the token', () => {
    const outputs = dflt.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const key of ['ApiUrl', 'ApiId', 'BucketName', 'TableName', 'WalIndexTableName', 'StreamName', 'TokenSecretArn', 'QuerynodeEnvironment', 'ReadTokenCommand'])
      assert.ok(outputs[key], key);
    assert.deepEqual(outputs.TokenSecretArn?.Value, { Ref: TOKEN_SECRET_LOGICAL_ID });
    // localstack/deploy.sh gives a local querynode this environment: what the Fargate tasks get.
    const querynodeEnv = JSON.stringify(outputs.QuerynodeEnvironment?.Value);
    for (const name of [
      AWS_ENV.bucket,
      AWS_ENV.table,
      AWS_ENV.walIndexTable,
      AWS_ENV.stream,
      AWS_ENV.tokenSecretArn,
      AWS_ENV.querynodePort,
      'MIGRANS_SEAL_ROWS',
      'MIGRANS_MAX_SEGMENT_BYTES',
    ]) {
      assert.ok(querynodeEnv.includes(`\\"${name}\\"`), name);
    }
    assert.match(JSON.stringify(outputs.ReadTokenCommand?.Value), /aws secretsmanager get-secret-value/);
  });
});

describe('variants', () => {
  it("querynodes 'external', on-demand stream, destroy: no VPC or ECS, same stateful logical ids, deletable", () => {
    const { stack, template } = synth({ querynodes: 'external', onDemand: true, removalPolicy: 'destroy', sealRows: 5000 });
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::ECS::Cluster', 'AWS::ECS::Service', 'AWS::ECS::TaskDefinition', 'AWS::EC2::SecurityGroup']) {
      template.resourceCountIs(type, 0);
    }
    assert.equal(stack.querynodes, undefined);
    const r = template.toJSON().Resources as Record<string, Resource>;
    for (const id of [...Object.values(STATEFUL_LOGICAL_IDS), TOKEN_SECRET_LOGICAL_ID]) {
      assert.ok(r[id], id);
      assert.equal(r[id]?.DeletionPolicy, 'Delete', id);
    }
    template.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, ShardCount: Match.absent() });
    const api = logicalId(stack, stack.functions.api.fn);
    assert.equal((r[api]?.Properties as Record<string, unknown>).VpcConfig, undefined);
    assert.equal(functionEnv(template, api).MIGRANS_SEAL_ROWS, '5000');
    assert.deepEqual(functionEnv(template, api)[AWS_ENV.tokenSecretArn], { Ref: TOKEN_SECRET_LOGICAL_ID }, 'the token is required under LocalStack too');
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('onDemand'));
    assert.equal(warnings.length, 0, 'no resharding warning: the WAL follows the shards an on-demand stream splits and merges');
  });
});

describe('props', () => {
  it('from context: strings from -c, JSON from cdk.json, unset keys left to defaults', () => {
    const ctx: Record<string, unknown> = {
      shardCount: '4',
      querynodeCount: 3,
      onDemand: 'false',
      querynodes: 'external',
      removalPolicy: 'destroy',
      sealRows: '20000',
      replicas: '2',
      architecture: 'arm64',
      querynodeSpot: true,
    };
    assert.deepEqual(
      propsFromContext((k) => ctx[k]),
      {
        shardCount: 4,
        querynodeCount: 3,
        onDemand: false,
        querynodeSpot: true,
        querynodes: 'external',
        architecture: 'arm64',
        removalPolicy: 'destroy',
        sealRows: 20000,
        replicas: 2,
      },
    );
    assert.deepEqual(
      propsFromContext((k) => ({ querynodeSpot: 'false', architecture: 'x86_64' })[k]),
      { querynodeSpot: false, architecture: 'x86_64' },
    );
    assert.deepEqual(
      propsFromContext(() => undefined),
      {},
    );
  });

  it('bad context values fail the synth with the key named', () => {
    assert.throws(() => propsFromContext((k) => (k === 'shardCount' ? 'two' : undefined)), /context shardCount/);
    assert.throws(() => propsFromContext((k) => (k === 'onDemand' ? 'yes' : undefined)), /context onDemand/);
    assert.throws(() => propsFromContext((k) => (k === 'querynodes' ? 'ecs' : undefined)), /context querynodes/);
    assert.throws(() => propsFromContext((k) => (k === 'auth' ? 'iam' : undefined)), /context auth/);
    assert.throws(() => propsFromContext((k) => (k === 'apiType' ? 'grpc' : undefined)), /context apiType: expected rest or http/);
    assert.deepEqual(
      propsFromContext((k) => (k === 'apiType' ? 'http' : undefined)),
      { apiType: 'http' },
    );
    assert.throws(() => propsFromContext((k) => (k === 'architecture' ? 'arm' : undefined)), /context architecture: expected x86_64 or arm64, got "arm"/);
    assert.throws(
      () => propsFromContext((k) => (k === 'querynodeSpot' ? 'yes' : undefined)),
      (e: unknown) => e instanceof StackPropsError && e.prop === 'querynodeSpot' && e.value === 'yes' && /expected true or false/.test(e.message),
    );
  });

  it('defaults and ranges', () => {
    const r = resolveProps({});
    assert.equal(r.shardCount, 2);
    assert.equal(r.querynodeMaxCount, 4);
    assert.equal(r.auth, 'token');
    assert.throws(() => resolveProps({ shardCount: 0 }), /shardCount must be an integer/);
    assert.throws(() => resolveProps({ querynodeCount: 3, querynodeMaxCount: 2 }), /querynodeMaxCount/);
    assert.throws(() => resolveProps({ sealRows: 1.5 }), /sealRows/);
    assert.equal(r.replicas, 1);
    assert.throws(() => resolveProps({ replicas: 0 }), /replicas must be an integer in \[1, 16\], got 0/);
    assert.throws(() => resolveProps({ maxSegmentBytes: 4096 }), /maxSegmentBytes must be an integer in \[1048576, 1073741824\], got 4096/);
  });
});

/** The one ECS service of a template, with its resource's DependsOn. */
function ecsService(template: Template): Resource & { DependsOn?: string[] } {
  const services = Object.values(resourcesOf(template, 'AWS::ECS::Service'));
  assert.equal(services.length, 1);
  return services[0]!;
}

/** The querynode task definition of a template. */
function querynodeTask(template: Template): Record<string, unknown> {
  const tasks = Object.values(resourcesOf(template, 'AWS::ECS::TaskDefinition'));
  assert.equal(tasks.length, 1);
  return tasks[0]!.Properties!;
}

/** Runs the container's health check command (its `node -e` part) against `port`; resolves to its exit code. */
function runHealthCheck(port: number): Promise<number> {
  const [kind, , flag, script] = QUERYNODE_HEALTH_CHECK_COMMAND;
  assert.equal(kind, 'CMD', 'exec form: node:22-slim needs no shell for it');
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [flag!, script!], { env: { PATH: process.env.PATH, [AWS_ENV.querynodePort]: String(port) }, timeout: 10_000 });
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/** A stand-in querynode answering `status` on READY_ROUTE (and 404 elsewhere) on a free loopback port. */
async function readinessServer(status: () => number): Promise<{ port: number; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(req.url === READY_ROUTE ? status() : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, paths, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('querynode health check and deploys', () => {
  it('a rolling deploy waits for new querynodes to answer /readyz before stopping old ones, and rolls back a deploy that never gets ready', () => {
    const task = querynodeTask(dflt.template);
    const [container] = task.ContainerDefinitions as { HealthCheck: Record<string, unknown> }[];
    assert.deepEqual(container!.HealthCheck, {
      Command: QUERYNODE_HEALTH_CHECK_COMMAND,
      StartPeriod: 300,
      Interval: 10,
      Timeout: 5,
      Retries: 5,
    });
    const service = ecsService(dflt.template).Properties!;
    const deploy = service.DeploymentConfiguration as Record<string, unknown>;
    assert.equal(deploy.MinimumHealthyPercent, 100, 'no old querynode stops before its replacement is ready');
    assert.equal(deploy.MaximumPercent, 200);
    assert.deepEqual(deploy.DeploymentCircuitBreaker, { Enable: true, Rollback: true });
    // Longer than the 300 s start period: a large share's bootstrap is not killed and restarted forever.
    assert.equal(service.HealthCheckGracePeriodSeconds, 600);
    assert.ok(QUERYNODE_HEALTH_CHECK.gracePeriod.toSeconds() > QUERYNODE_HEALTH_CHECK.startPeriod.toSeconds());
  });

  it('the health check asks the querynode readiness route on its own port: 200 passes, 503 (bootstrapping) and no listener fail', async () => {
    assert.equal(QUERYNODE_READY_PATH, READY_ROUTE, 'the health check probes the route the querynode serves');
    let status = 200;
    const server = await readinessServer(() => status);
    try {
      assert.equal(await runHealthCheck(server.port), 0, 'ready');
      status = 503;
      assert.equal(await runHealthCheck(server.port), 1, 'bootstrapping');
      assert.deepEqual(server.paths, [READY_ROUTE, READY_ROUTE], 'no token needed, only the readiness route asked');
    } finally {
      await server.close();
    }
    // Nothing listens while the node bootstraps (it serves only once its stores are open).
    assert.equal(await runHealthCheck(server.port), 1, 'connection refused');
  });
});

describe('architecture', () => {
  it('arm64 runs every function and the querynode task on Graviton, with an arm64 image', () => {
    const { stack, template } = synth({ architecture: 'arm64' });
    const fns = resourcesOf(template, 'AWS::Lambda::Function');
    assert.equal(Object.keys(fns).length, 4);
    for (const [id, fn] of Object.entries(fns)) assert.deepEqual(fn.Properties?.Architectures, ['arm64'], id);
    assert.deepEqual(querynodeTask(template).RuntimePlatform, { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    const assembly = (stack.node.root as App).synth();
    const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { platform?: string } }>;
    };
    const images = Object.values(assets.dockerImages);
    assert.equal(images.length, 1);
    assert.equal(images[0]!.source.platform, 'linux/arm64');
  });

  it('the default is x86_64 for the functions, the task and the image', () => {
    assert.deepEqual(querynodeTask(dflt.template).RuntimePlatform, { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
    const assembly = (dflt.stack.node.root as App).synth();
    const assets = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${dflt.stack.artifactId}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { platform?: string } }>;
    };
    assert.deepEqual(
      Object.values(assets.dockerImages).map((i) => i.source.platform),
      ['linux/amd64'],
    );
  });

  it('every native package has a linux-arm64 build an arm64 asset can install: usearch in its prebuilds, lmdb and msgpackr-extract in the lockfile', () => {
    assert.deepEqual(NATIVE_MODULES, ['usearch', 'lmdb', 'msgpackr-extract']);
    for (const cpu of ['x64', 'arm64']) {
      assert.ok(fs.existsSync(path.join(REPO_ROOT, 'node_modules', 'usearch', 'prebuilds', `linux-${cpu}`, 'usearch.node')), `usearch prebuilds/linux-${cpu}`);
    }
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; optionalDependencies?: Record<string, string>; os?: string[]; cpu?: string[] }>;
    };
    for (const [pkg, platformPkg] of [
      ['lmdb', '@lmdb/lmdb-linux-arm64'],
      ['msgpackr-extract', '@msgpackr-extract/msgpackr-extract-linux-arm64'],
    ] as const) {
      const wanted = lock.packages[`node_modules/${pkg}`]?.optionalDependencies?.[platformPkg];
      assert.ok(wanted, `${pkg} lists ${platformPkg}`);
      const entry = lock.packages[`node_modules/${platformPkg}`];
      assert.equal(entry?.version, wanted, `the lockfile pins ${platformPkg} at the version ${pkg} wants`);
      assert.deepEqual([entry?.os, entry?.cpu], [['linux'], ['arm64']], platformPkg);
    }
  });

  it('an unknown architecture fails the synth, naming the value', () => {
    assert.throws(
      () => resolveProps({ architecture: 'aarch64' as never }),
      (e: unknown) => e instanceof StackPropsError && e.prop === 'architecture' && e.value === 'aarch64' && /'x86_64' or 'arm64', got "aarch64"/.test(e.message),
    );
  });
});

describe('querynodeSpot', () => {
  it('puts every querynode on FARGATE_SPOT, associated with the cluster before the service is created', () => {
    const { template } = synth({ querynodeSpot: true });
    const service = ecsService(template);
    assert.deepEqual(service.Properties?.CapacityProviderStrategy, [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    assert.equal(service.Properties?.LaunchType, undefined, 'a capacity provider strategy replaces the launch type');
    const associations = resourcesOf(template, 'AWS::ECS::ClusterCapacityProviderAssociations');
    const [associationId, association] = Object.entries(associations)[0] ?? [];
    assert.equal(Object.keys(associations).length, 1);
    assert.ok((association?.Properties?.CapacityProviders as string[]).includes('FARGATE_SPOT'));
    assert.ok(service.DependsOn?.includes(associationId!), 'the service waits for the association');
    // The health check and the deploy safety are the same on Spot.
    assert.equal(service.Properties?.HealthCheckGracePeriodSeconds, 600);
    assert.deepEqual((service.Properties?.DeploymentConfiguration as Record<string, unknown>).MinimumHealthyPercent, 100);
  });

  it('is off by default: plain FARGATE launch type, no capacity providers', () => {
    const service = ecsService(dflt.template);
    assert.equal(service.Properties?.LaunchType, 'FARGATE');
    assert.equal(service.Properties?.CapacityProviderStrategy, undefined);
    dflt.template.resourceCountIs('AWS::ECS::ClusterCapacityProviderAssociations', 0);
  });

  it('is refused with arm64 (Fargate Spot runs no ARM64 tasks) and without Fargate querynodes', () => {
    assert.throws(
      () => resolveProps({ querynodeSpot: true, architecture: 'arm64' }),
      (e: unknown) => e instanceof StackPropsError && e.prop === 'querynodeSpot' && /Fargate Spot runs no ARM64 tasks/.test(e.message),
    );
    assert.throws(() => resolveProps({ querynodeSpot: true, querynodes: 'external' }), /querynodeSpot needs querynodes 'fargate'.*got querynodes 'external'/);
    assert.throws(() => resolveProps({ querynodeSpot: 'yes' as never }), /querynodeSpot must be true or false, got "yes"/);
  });
});

describe('Fargate task sizes', () => {
  it('accept every combination of the Fargate table, at its edges', () => {
    const ok: [number, number][] = [
      [256, 512],
      [256, 2048],
      [512, 1024],
      [512, 4096],
      [1024, 2048],
      [1024, 8192],
      [2048, 4096],
      [2048, 16384],
      [4096, 8192],
      [4096, 30720],
      [8192, 16384],
      [8192, 20480],
      [8192, 61440],
      [16384, 32768],
      [16384, 40960],
      [16384, 122880],
    ];
    for (const [cpu, memory] of ok) assert.equal(resolveProps({ querynodeCpu: cpu, querynodeMemoryMiB: memory }).querynodeMemoryMiB, memory, `${cpu}/${memory}`);
    assert.deepEqual(FARGATE_MEMORY_MIB[256], [512, 1024, 2048]);
    assert.equal(FARGATE_MEMORY_MIB[4096]?.length, 23, '8–30 GiB in 1 GiB steps');
  });

  it('refuse a memory size the CPU value does not take, naming both values and the valid range', () => {
    const refused: [number, number, RegExp][] = [
      [256, 1536, /querynodeMemoryMiB 1536 is not a Fargate size for querynodeCpu 256: with 256 CPU units memory must be 512, 1024, 2048 MiB/],
      [1024, 3000, /querynodeMemoryMiB 3000 is not a Fargate size for querynodeCpu 1024: .*2048–8192 MiB in 1024 MiB steps/],
      [1024, 16384, /querynodeCpu 1024: .*2048–8192 MiB/],
      [4096, 31744, /4096 CPU units memory must be 8192–30720 MiB in 1024 MiB steps/],
      [8192, 18432, /8192 CPU units memory must be 16384–61440 MiB in 4096 MiB steps/],
      [16384, 36864, /16384 CPU units memory must be 32768–122880 MiB in 8192 MiB steps/],
    ];
    for (const [cpu, memory, message] of refused) {
      assert.throws(
        () => resolveProps({ querynodeCpu: cpu, querynodeMemoryMiB: memory }),
        (e: unknown) => e instanceof StackPropsError && e.prop === 'querynodeMemoryMiB' && e.value === memory && message.test(e.message),
        `${cpu}/${memory}`,
      );
    }
  });

  it('refuse a CPU value Fargate does not offer, listing the ones it does', () => {
    assert.throws(
      () => resolveProps({ querynodeCpu: 3072, querynodeMemoryMiB: 8192 }),
      (e: unknown) => e instanceof StackPropsError && e.prop === 'querynodeCpu' && /Fargate CPU value \(256, 512, 1024, 2048, 4096, 8192, 16384\), got 3072/.test(e.message),
    );
  });
});

/**
 * The idle cost table of lib/infra/README.md, recounted: every quantity is read from a synthesized
 * template (so adding a NAT gateway, an alarm or a shard without updating the table fails here), every
 * price is the list price below for that template's architecture and capacity, and every amount and
 * total is recomputed. A failure prints the table as it should read.
 */
describe('idle cost table (lib/infra/README.md)', () => {
  /** Hours in the month AWS's calculator uses. */
  const HOURS = 730;
  /** Runs of a one-minute schedule in that month. */
  const TICKS = HOURS * 60;
  /** Billed seconds assumed per idle scheduled invocation (an idle sweep or compaction finds nothing to do; not measured on AWS). */
  const IDLE_TICK_SECONDS = 0.5;
  /** us-east-1 list prices (README gives the date); Spot ≈ 70 % off the x86_64 on-demand price. */
  const PRICE = {
    fargateVcpuHour: { x86_64: 0.04048, arm64: 0.03238, spot: 0.012144 },
    fargateGbHour: { x86_64: 0.004445, arm64: 0.00356, spot: 0.0013335 },
    fargateStorageGbHour: 0.000111,
    natGatewayHour: 0.045,
    publicIpv4Hour: 0.005,
    kinesisShardHour: 0.015,
    kinesisExtendedRetentionShardHour: 0.02,
    alarmMonth: 0.1,
    insightsAlarmMetricMonth: 0.1,
    customMetricMonth: 0.3,
    secretMonth: 0.4,
    lambdaRequest: 0.0000002,
    lambdaGbSecond: { x86_64: 0.0000166667, arm64: 0.0000133334 },
  };
  /** The configurations the table prices, in its column order. */
  const CONFIGS: { column: string; props: MigransStackProps }[] = [
    { column: 'default', props: {} },
    { column: 'cheapest: Spot', props: { querynodeCount: 1, querynodeSpot: true, shardCount: 1, natGateways: 1 } },
    { column: 'cheapest without Spot: arm64', props: { querynodeCount: 1, architecture: 'arm64', shardCount: 1, natGateways: 1 } },
    {
      column: 'smallest: Spot, 0.5 vCPU, 1-day WAL',
      props: { querynodeCount: 1, querynodeSpot: true, querynodeCpu: 512, querynodeMemoryMiB: 2048, querynodeDiskGiB: 21, shardCount: 1, natGateways: 1, streamRetentionHours: 24 },
    },
  ];

  /** One priced line: quantity × unit price (per hour when `hourly`). */
  interface Line {
    qty: number;
    price: number;
    hourly: boolean;
  }

  /** The idle bill of a template, by table key. */
  function idleBill(template: Template): Record<string, Line> {
    const t = template.toJSON().Resources as Record<string, Resource>;
    const all = (type: string) => Object.values(t).filter((r) => r.Type === type);
    const task = querynodeTask(template);
    const service = ecsService(template).Properties!;
    const tasks = service.DesiredCount as number;
    const spot = JSON.stringify(service.CapacityProviderStrategy ?? []).includes('FARGATE_SPOT');
    const taskArch = (task.RuntimePlatform as { CpuArchitecture: string }).CpuArchitecture === 'ARM64' ? 'arm64' : 'x86_64';
    const fargate = spot ? 'spot' : taskArch;
    const [stream] = all('AWS::Kinesis::Stream');
    const shards = stream!.Properties!.ShardCount as number;
    const alarms = all('AWS::CloudWatch::Alarm');
    const insightsAlarms = alarms.filter((a) => JSON.stringify(a.Properties?.Metrics ?? '').includes('SELECT'));
    assert.equal(insightsAlarms.length, 1, 'one Metrics Insights alarm (CheckpointAgeAlarm): with no collection it analyzes no channel');
    // Target tracking creates two alarms per policy (scale out, scale in) outside the template; they are billed too.
    const targetTracking = all('AWS::ApplicationAutoScaling::ScalingPolicy').filter((p) => p.Properties?.PolicyType === 'TargetTrackingScaling').length;
    const everyMinute = all('AWS::Events::Rule').filter((r) => r.Properties?.ScheduleExpression === 'rate(1 minute)');
    const ticked = everyMinute.map((r) => {
      const [target] = r.Properties!.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[];
      return t[target!.Arn['Fn::GetAtt'][0]]!.Properties!;
    });
    const lambdaArch = ticked.every((fn) => JSON.stringify(fn.Architectures) === '["arm64"]') ? 'arm64' : 'x86_64';
    return {
      'fargate-vcpu': { qty: (tasks * Number(task.Cpu)) / 1024, price: PRICE.fargateVcpuHour[fargate], hourly: true },
      'fargate-memory': { qty: (tasks * Number(task.Memory)) / 1024, price: PRICE.fargateGbHour[fargate], hourly: true },
      'fargate-storage': { qty: tasks * ((task.EphemeralStorage as { SizeInGiB: number }).SizeInGiB - 20), price: PRICE.fargateStorageGbHour, hourly: true },
      'nat-gateway': { qty: all('AWS::EC2::NatGateway').length, price: PRICE.natGatewayHour, hourly: true },
      'public-ipv4': { qty: all('AWS::EC2::EIP').length, price: PRICE.publicIpv4Hour, hourly: true },
      'kinesis-shard': { qty: shards, price: PRICE.kinesisShardHour, hourly: true },
      'kinesis-retention': { qty: (stream!.Properties!.RetentionPeriodHours as number) > 24 ? shards : 0, price: PRICE.kinesisExtendedRetentionShardHour, hourly: true },
      alarm: { qty: alarms.length - insightsAlarms.length + 2 * targetTracking, price: PRICE.alarmMonth, hourly: false },
      'insights-alarm': { qty: 0, price: PRICE.insightsAlarmMetricMonth, hourly: false },
      'custom-metric': {
        qty: alarms.filter((a) => typeof a.Properties?.Namespace === 'string' && !a.Properties.Namespace.startsWith('AWS/')).length,
        price: PRICE.customMetricMonth,
        hourly: false,
      },
      secret: { qty: all('AWS::SecretsManager::Secret').length, price: PRICE.secretMonth, hourly: false },
      'lambda-requests': { qty: everyMinute.length * TICKS, price: PRICE.lambdaRequest, hourly: false },
      'lambda-compute': {
        qty: ticked.reduce((sum, fn) => sum + ((fn.MemorySize as number) / 1024) * TICKS * IDLE_TICK_SECONDS, 0),
        price: PRICE.lambdaGbSecond[lambdaArch],
        hourly: false,
      },
    };
  }

  const money = (x: number) => `$${x.toFixed(2)}`;
  const amount = (l: Line) => Math.round(l.qty * l.price * (l.hourly ? HOURS : 1) * 100) / 100;
  /** A unit price with its significant digits, at least cents ($0.10, $0.04048, $0.0000002). */
  const unit = (x: number) => {
    const digits = x.toFixed(10).replace(/0+$/, '');
    return `$${digits.split('.')[1]!.length < 2 ? x.toFixed(2) : digits}`;
  };
  const cell = (l: Line) => `${l.qty.toLocaleString('en-US', { maximumFractionDigits: 2 })} × ${unit(l.price)}${l.hourly ? '/h' : ''} = ${money(amount(l))}`;

  it('itemizes exactly what the default, Spot and arm64 templates bill while idle, with the right prices and totals', () => {
    const bills = CONFIGS.map((c) => idleBill(c.props === CONFIGS[0]!.props ? dflt.template : synth(c.props).template));
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'lib', 'infra', 'README.md'), 'utf8').split('\n');
    const header = readme.findIndex((l) => l.startsWith('| item (`key`) |'));
    assert.notEqual(header, -1, 'README has the cost table');
    const columns = readme[header]!.split('|').map((c) => c.trim());
    assert.deepEqual(
      columns.slice(3, 3 + CONFIGS.length),
      CONFIGS.map((c) => c.column),
      'columns in CONFIGS order',
    );
    const rows = new Map<string, string[]>();
    let totals: string[] | undefined;
    for (const line of readme.slice(header + 2)) {
      if (!line.startsWith('|')) break;
      const cells = line.split('|').map((c) => c.trim());
      const key = /^`([a-z0-9-]+)`/.exec(cells[1] ?? '')?.[1];
      if (key) rows.set(key, cells.slice(3, 3 + CONFIGS.length));
      else if (cells[1] === '**total**') totals = cells.slice(3, 3 + CONFIGS.length);
    }
    const expected = Object.keys(bills[0]!).map((key) => bills.map((b) => cell(b[key]!)));
    const expectedTotals = bills.map((b) => `**${money(Object.values(b).reduce((sum, l) => sum + amount(l), 0))}**`);
    const table = [...Object.keys(bills[0]!).map((key, i) => `${key}: ${expected[i]!.join(' | ')}`), `total: ${expectedTotals.join(' | ')}`].join('\n');
    assert.deepEqual([...rows.keys()], Object.keys(bills[0]!), `the table lists every billed item, in order; expected:\n${table}`);
    Object.keys(bills[0]!).forEach((key, i) => assert.deepEqual(rows.get(key), expected[i], `${key}; the table should read:\n${table}`));
    assert.deepEqual(totals, expectedTotals, `totals; the table should read:\n${table}`);
  });
});
