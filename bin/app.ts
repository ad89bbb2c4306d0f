/**
 * The CDK app (`npx cdk synth|deploy`, run through cdk.json). Environment-agnostic: no account or region
 * is baked in, so synth needs no AWS credentials and deploy targets whatever the CLI's profile points at.
 * Props come from context: `npx cdk deploy -c shardCount=4 -c querynodeCount=3` (lib/infra/README.md).
 */
import { App } from 'aws-cdk-lib';
import { MigransStack } from '../lib/infra/migrans-stack.ts';
import { propsFromContext } from '../lib/infra/stack-context.ts';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Migrans';
new MigransStack(app, stackName, {
  ...propsFromContext((key) => app.node.tryGetContext(key)),
  description: 'Migrans: a vector database with the Milvus REST API v2, serverless (Kinesis, Lambda, S3, DynamoDB, Fargate)',
});
app.synth();
