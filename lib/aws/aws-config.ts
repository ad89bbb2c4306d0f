/**
 * Configuration of the AWS roles, read from the environment the CDK stack sets (aws-env.ts) in one
 * place. Every problem is a ConfigError naming the variable, the value received and what to do.
 */
import { ConfigError, resolveEngineConfig } from '../config.ts';
import type { EngineConfig } from '../engine/engine-config.ts';
import { AWS_ENV, MAX_REPLICAS } from './aws-env.ts';

/** Validated configuration of an AWS role. */
export interface AwsConfig {
  bucket: string;
  table: string;
  walIndexTable: string;
  stream: string;
  /** Set on the roles that hand segments to the indexer (ingest, api). */
  indexerFunction?: string;
  tokenSecretArn?: string;
  token?: string;
  querynodePort: number;
  querynodeAddress?: string;
  /** Querynodes holding each sealed segment (MIGRANS_REPLICAS). */
  replicas: number;
  /** The compactor's memory budget per plan, when set (else the compactor derives it from the function's memory). */
  compactorMemoryBytes?: number;
  engine: Partial<EngineConfig>;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(`${name} is not set: the CDK stack sets it on every function; for local runs use \`npm run dev:aws\`, which sets it`);
  return v;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** Reads and validates the AWS roles' configuration. */
export function resolveAwsConfig(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const portText = optional(env, AWS_ENV.querynodePort) ?? '19531';
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new ConfigError(`invalid ${AWS_ENV.querynodePort} ${JSON.stringify(portText)}: use an integer from 0 to 65535`);
  }
  const budgetText = optional(env, AWS_ENV.compactorMemoryBytes);
  if (budgetText !== undefined && (!/^\d+$/.test(budgetText) || !Number.isSafeInteger(Number(budgetText)) || Number(budgetText) === 0)) {
    throw new ConfigError(`invalid ${AWS_ENV.compactorMemoryBytes} ${JSON.stringify(budgetText)}: use a positive integer of bytes, e.g. 1073741824 for 1 GiB`);
  }
  const replicasText = optional(env, AWS_ENV.replicas) ?? '1';
  if (!/^\d+$/.test(replicasText) || Number(replicasText) < 1 || Number(replicasText) > MAX_REPLICAS) {
    throw new ConfigError(`invalid ${AWS_ENV.replicas} ${JSON.stringify(replicasText)}: use an integer from 1 to ${MAX_REPLICAS} (querynodes holding each sealed segment)`);
  }
  return {
    bucket: required(env, AWS_ENV.bucket),
    table: required(env, AWS_ENV.table),
    walIndexTable: required(env, AWS_ENV.walIndexTable),
    stream: required(env, AWS_ENV.stream),
    indexerFunction: optional(env, AWS_ENV.indexerFunction),
    tokenSecretArn: optional(env, AWS_ENV.tokenSecretArn),
    token: optional(env, AWS_ENV.token),
    querynodePort: Number(portText),
    querynodeAddress: optional(env, AWS_ENV.querynodeAddress),
    replicas: Number(replicasText),
    compactorMemoryBytes: budgetText === undefined ? undefined : Number(budgetText),
    engine: resolveEngineConfig(env),
  };
}
