/**
 * The public entry point: an API Gateway REST API (v1: LocalStack's free tier has no v2) whose
 * `/v2/{proxy+}` resource proxies every Milvus REST v2 call (`POST /v2/vectordb/collections/create`…)
 * to the api function, plus the token secret that function checks.
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

/** Props of MigransRestApi. */
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
export class MigransRestApi extends Construct {
  /** The API. */
  readonly api: apigw.RestApi;

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
  }
}
