/**
 * The public entry point, one of two API Gateway flavours proxying every Milvus REST v2 call
 * (`POST /v2/vectordb/collections/create`…) under `/v2/` to the api function, plus the token secret
 * that function checks:
 * - a REST API (v1, the default: LocalStack's free tier has no v2), $3.50 per million requests;
 * - an HTTP API (`apiType: 'http'`), $1.00 per million: the same routes through payload format 2.0
 *   (lib/aws/api-role.ts reads both), stage throttling and access logs, on the `$default` stage.
 *   It has no binary media types setting: a body it takes for binary (gzip) arrives base64-encoded with
 *   `isBase64Encoded`, which the handler decodes either way.
 *
 * Auth is a bearer token, not IAM: Milvus clients (the official SDKs' HTTP clients, curl) send
 * `Authorization: Bearer <token>`, so a shared token keeps every existing client working unchanged,
 * while IAM auth would need SigV4-signing clients that Milvus users do not have. The token lives in
 * Secrets Manager, generated at deploy time, and the function gets only the secret's ARN; there is no
 * API Gateway authorizer because the function itself refuses a request without the right token, and it
 * must refuse to serve at all when MIGRANS_TOKEN_SECRET_ARN is missing (fail closed), so the API never
 * ships open.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { pinLogicalId } from './migrans-storage.ts';

/** Logical id of the token secret (pinned: replacing it would change every client's token). */
export const TOKEN_SECRET_LOGICAL_ID = 'MigransTokenSecret';

/** Props of MigransTokenSecret. */
export interface MigransTokenSecretProps {
  removalPolicy: RemovalPolicy;
}

/** The API token: 48 random letters and digits (no punctuation: it travels in an HTTP header). */
export class MigransTokenSecret extends Construct {
  /** The secret. */
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MigransTokenSecretProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Migrans API token: clients send it as "Authorization: Bearer <token>"',
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.removalPolicy,
    });
    pinLogicalId(this.secret, TOKEN_SECRET_LOGICAL_ID);
  }
}

/** What the stack needs of either API: its base URL and id. */
export interface MigransApiEndpoint {
  /** Base URL, ending in `/` (clients append `v2/vectordb/…`). */
  readonly url: string;
  /** The API's id. */
  readonly apiId: string;
}

/** Props of MigransRestApi and MigransHttpApi. */
export interface MigransRestApiProps {
  /** The api function every request goes to. */
  handler: lambda.IFunction;
  /** Steady-state requests per second across the stage. */
  rateLimit: number;
  /** Burst capacity (requests). */
  burstLimit: number;
  removalPolicy: RemovalPolicy;
}

/** REST API with `ANY /v2/{proxy+}` → the api function, stage throttling and JSON access logs. */
export class MigransRestApi extends Construct implements MigransApiEndpoint {
  /** The API. */
  readonly api: apigw.RestApi;
  /** {@inheritDoc MigransApiEndpoint.url} */
  readonly url: string;
  /** {@inheritDoc MigransApiEndpoint.apiId} */
  readonly apiId: string;

  constructor(scope: Construct, id: string, props: MigransRestApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: props.removalPolicy });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${Stack.of(this).stackName}-milvus-rest-v2`,
      description: 'Migrans: the Milvus REST API v2',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // Access logs to CloudWatch need the account-level API Gateway role; keep it when the stack goes
      // (other APIs in the account may rely on it).
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'prod',
        throttlingRateLimit: props.rateLimit,
        throttlingBurstLimit: props.burstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        metricsEnabled: true,
      },
    });
    // Only /v2/… exists: anything else is API Gateway's 403 "Missing Authentication Token" and never
    // reaches the function. The handler sees `event.path` without the stage (`/v2/vectordb/…`).
    this.api.root.addResource('v2').addProxy({
      defaultIntegration: new apigw.LambdaIntegration(props.handler, { proxy: true }),
      anyMethod: true,
    });
    this.url = this.api.url;
    this.apiId = this.api.restApiId;
  }
}

/** HTTP API with `ANY /v2/{proxy+}` → the api function (payload 2.0), `$default` stage throttling and JSON access logs. */
export class MigransHttpApi extends Construct implements MigransApiEndpoint {
  /** The API. */
  readonly api: apigwv2.HttpApi;
  /** {@inheritDoc MigransApiEndpoint.url} */
  readonly url: string;
  /** {@inheritDoc MigransApiEndpoint.apiId} */
  readonly apiId: string;

  constructor(scope: Construct, id: string, props: MigransRestApiProps) {
    super(scope, id);
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: props.removalPolicy });
    // No CORS configuration: browsers get no cross-origin access by default.
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: `${Stack.of(this).stackName}-milvus-rest-v2`,
      description: 'Migrans: the Milvus REST API v2',
      createDefaultStage: false,
    });
    const stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs), format: apigw.AccessLogFormat.jsonWithStandardFields() },
    });
    // Only /v2/… exists: anything else is API Gateway's 404 and never reaches the function.
    this.api.addRoutes({
      path: '/v2/{proxy+}',
      methods: [apigwv2.HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Api', props.handler, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }),
    });
    this.url = `${stage.url}`;
    this.apiId = this.api.apiId;
  }
}
