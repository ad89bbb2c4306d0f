/** The deployment's API token: from Secrets Manager on AWS, from MIGRANS_TOKEN in local runs. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { hookAwsClient } from '../adapters/aws/client-hook.ts';
import { ConfigError } from '../config.ts';
import type { AwsConfig } from './aws-config.ts';

/** Resolves the token; there is no way to run the AWS roles without one. */
export async function resolveApiToken(config: Pick<AwsConfig, 'tokenSecretArn' | 'token'>, client?: SecretsManagerClient): Promise<string> {
  if (config.tokenSecretArn) {
    const res = await (client ?? hookAwsClient(new SecretsManagerClient({}))).send(new GetSecretValueCommand({ SecretId: config.tokenSecretArn }));
    const token = res.SecretString?.trim();
    if (!token) throw new ConfigError(`the secret ${config.tokenSecretArn} holds no string: store the API token in it`);
    return token;
  }
  if (config.token) return config.token;
  throw new ConfigError('no API token: set MIGRANS_TOKEN_SECRET_ARN (the CDK stack does) or MIGRANS_TOKEN; the AWS API never runs open');
}
