/**
 * MigransStack props from CDK context (`npx cdk deploy -c shardCount=4 -c querynodes=external`, or the
 * "context" of cdk.json). `-c` values arrive as strings, cdk.json values as JSON; both are accepted,
 * and an unparsable value fails the synth instead of silently falling back to a default.
 */
import type { MigransStackProps } from './migrans-stack.ts';
import { StackPropsError } from './stack-props-error.ts';

/** Context keys that map to numeric props. */
const NUMBER_KEYS = [
  'shardCount',
  'streamRetentionHours',
  'querynodeCount',
  'querynodeMaxCount',
  'querynodeCpu',
  'querynodeMemoryMiB',
  'querynodeDiskGiB',
  'querynodePort',
  'replicas',
  'sealRows',
  'maxSegmentBytes',
  'natGateways',
  'ingestReservedConcurrency',
  'indexerReservedConcurrency',
  'apiRateLimit',
  'apiBurstLimit',
] as const;

/** Context keys that map to boolean props. */
const BOOLEAN_KEYS = ['onDemand', 'querynodeSpot'] as const;

/** Reads the stack's props from context; `get` is `app.node.tryGetContext`. Unset keys stay unset (defaults apply). */
export function propsFromContext(get: (key: string) => unknown): MigransStackProps {
  const props: MigransStackProps = {};
  for (const key of NUMBER_KEYS) {
    const raw = get(key);
    if (raw === undefined) continue;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(value)) throw new StackPropsError(key, raw, `context ${key}: expected a number, got ${JSON.stringify(raw)}`);
    props[key] = value;
  }
  for (const key of BOOLEAN_KEYS) {
    const raw = get(key);
    if (raw === undefined) continue;
    if (raw === true || raw === 'true') props[key] = true;
    else if (raw === false || raw === 'false') props[key] = false;
    else throw new StackPropsError(key, raw, `context ${key}: expected true or false, got ${JSON.stringify(raw)}`);
  }
  const querynodes = get('querynodes');
  if (querynodes !== undefined) {
    if (querynodes !== 'fargate' && querynodes !== 'external')
      throw new StackPropsError('querynodes', querynodes, `context querynodes: expected fargate or external, got ${JSON.stringify(querynodes)}`);
    props.querynodes = querynodes;
  }
  const architecture = get('architecture');
  if (architecture !== undefined) {
    if (architecture !== 'x86_64' && architecture !== 'arm64')
      throw new StackPropsError('architecture', architecture, `context architecture: expected x86_64 or arm64, got ${JSON.stringify(architecture)}`);
    props.architecture = architecture;
  }
  const apiType = get('apiType');
  if (apiType !== undefined) {
    if (apiType !== 'rest' && apiType !== 'http') throw new StackPropsError('apiType', apiType, `context apiType: expected rest or http, got ${JSON.stringify(apiType)}`);
    props.apiType = apiType;
  }
  const auth = get('auth');
  if (auth !== undefined) {
    if (auth !== 'token') throw new StackPropsError('auth', auth, `context auth: expected token (the only mode), got ${JSON.stringify(auth)}`);
    props.auth = auth;
  }
  const removalPolicy = get('removalPolicy');
  if (removalPolicy !== undefined) {
    if (removalPolicy !== 'retain' && removalPolicy !== 'destroy')
      throw new StackPropsError('removalPolicy', removalPolicy, `context removalPolicy: expected retain or destroy, got ${JSON.stringify(removalPolicy)}`);
    props.removalPolicy = removalPolicy;
  }
  return props;
}
