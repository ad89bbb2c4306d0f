/**
 * MigransStack props from CDK context (`npx cdk deploy -c shardCount=4 -c querynodes=external`, or the
 * "context" of cdk.json). `-c` values arrive as strings, cdk.json values as JSON; both are accepted,
 * and an unparsable value fails the synth instead of silently falling back to a default.
 */
import type { MigransStackProps } from './migrans-stack.ts';

/** Context keys that map to numeric props. */
const NUMBER_KEYS = [
  'shardCount',
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
  'apiRateLimit',
  'apiBurstLimit',
] as const;

/** Reads the stack's props from context; `get` is `app.node.tryGetContext`. Unset keys stay unset (defaults apply). */
export function propsFromContext(get: (key: string) => unknown): MigransStackProps {
  const props: MigransStackProps = {};
  for (const key of NUMBER_KEYS) {
    const raw = get(key);
    if (raw === undefined) continue;
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(value)) throw new Error(`context ${key}: expected a number, got ${JSON.stringify(raw)}`);
    props[key] = value;
  }
  const onDemand = get('onDemand');
  if (onDemand !== undefined) {
    if (onDemand === true || onDemand === 'true') props.onDemand = true;
    else if (onDemand === false || onDemand === 'false') props.onDemand = false;
    else throw new Error(`context onDemand: expected true or false, got ${JSON.stringify(onDemand)}`);
  }
  const querynodes = get('querynodes');
  if (querynodes !== undefined) {
    if (querynodes !== 'fargate' && querynodes !== 'external') throw new Error(`context querynodes: expected fargate or external, got ${JSON.stringify(querynodes)}`);
    props.querynodes = querynodes;
  }
  const auth = get('auth');
  if (auth !== undefined) {
    if (auth !== 'token') throw new Error(`context auth: expected token (the only mode), got ${JSON.stringify(auth)}`);
    props.auth = auth;
  }
  const removalPolicy = get('removalPolicy');
  if (removalPolicy !== undefined) {
    if (removalPolicy !== 'retain' && removalPolicy !== 'destroy') throw new Error(`context removalPolicy: expected retain or destroy, got ${JSON.stringify(removalPolicy)}`);
    props.removalPolicy = removalPolicy;
  }
  return props;
}
