/**
 * The querynode fleet: a Fargate service running the repo-root Dockerfile (`bin/querynode.ts`), in the
 * VPC's private subnets, autoscaled on CPU. There is no load balancer: each querynode registers its
 * private address (`<ip>:<MIGRANS_QUERYNODE_PORT>`) in the registry of the Kv table, and the api
 * function calls the querynodes that own the segments it needs. The internal port checks the API token
 * too, and its security group admits only the api function's security group.
 *
 * Operability: a container health check on `GET /readyz` (200 once the node is registered with its
 * share loaded) makes a rolling deploy wait for each new querynode's bootstrap before it stops an old
 * one (minHealthyPercent 100). Cost: the task runs on x86_64 or arm64 (Graviton, ~20 % cheaper), and
 * optionally on Fargate Spot (~70 % cheaper; x86_64 only, AWS offers no ARM64 Spot).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AWS_ENV } from '../aws/aws-env.ts';
import { type MigransArchitecture, REPO_ROOT } from './migrans-function.ts';

/** The querynode's readiness route (lib/api/health.ts READY_ROUTE; infra may not import lib/api, the test checks they agree). */
export const QUERYNODE_READY_PATH = '/readyz';

/**
 * The container health check. node:22-slim has no curl, so node itself asks the querynode's own port
 * (the route needs no token). Any failure (connection refused while bootstrapping, 503, timeout) exits 1.
 */
export const QUERYNODE_HEALTH_CHECK_COMMAND = [
  'CMD',
  'node',
  '-e',
  `fetch('http://127.0.0.1:'+process.env.${AWS_ENV.querynodePort}+'${QUERYNODE_READY_PATH}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
];

/**
 * Health check timing (exported so the tests assert the same numbers).
 * - startPeriod 300 s, ECS's maximum: a bootstrap (catalog, the node's share of index files from S3,
 *   WAL catch-up from the checkpoints) serves nothing and fails every check, and failures inside the
 *   start period do not count. A long start period costs nothing: the first passing check marks the
 *   task healthy at once.
 * - interval 10 s: how soon a ready node is noticed, so it bounds how long a deploy waits per node.
 * - timeout 5 s and 5 retries: a node is replaced after ~50 s without an answer, longer than any one
 *   bounded request holds the event loop (ARCHITECTURE.md §2.7), short enough for a wedged node.
 * - gracePeriod 10 min: the service ignores an unhealthy task this long after it starts, so a
 *   bootstrap of a large share that outlasts the 300 s start period is not killed and restarted
 *   forever; a node that fails to apply exits by itself (bin/querynode.ts), so this only delays
 *   replacing one that hangs while starting.
 */
export const QUERYNODE_HEALTH_CHECK = {
  startPeriod: Duration.seconds(300),
  interval: Duration.seconds(10),
  timeout: Duration.seconds(5),
  retries: 5,
  gracePeriod: Duration.minutes(10),
} as const;

/** Memory sizes (MiB) from `min` to `max` in `step`s. */
function mibRange(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  for (let m = min; m <= max; m += step) out.push(m);
  return out;
}

/** The task sizes Fargate accepts: CPU units → valid memory (MiB), from AWS's task size table. */
export const FARGATE_MEMORY_MIB: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: mibRange(1024, 4096, 1024),
  1024: mibRange(2048, 8192, 1024),
  2048: mibRange(4096, 16384, 1024),
  4096: mibRange(8192, 30720, 1024),
  8192: mibRange(16384, 61440, 4096),
  16384: mibRange(32768, 122880, 8192),
};

/** The valid memory sizes of a CPU value in words, e.g. "2048–8192 MiB in 1024 MiB steps". */
export function describeFargateMemory(cpu: number): string {
  const sizes = FARGATE_MEMORY_MIB[cpu];
  if (!sizes) return `none: Fargate CPU units are ${Object.keys(FARGATE_MEMORY_MIB).join(', ')}`;
  if (cpu === 256) return sizes.map(String).join(', ') + ' MiB';
  return `${sizes[0]}–${sizes[sizes.length - 1]} MiB in ${sizes[1]! - sizes[0]!} MiB steps`;
}

/** Props of QuerynodeService. */
export interface QuerynodeServiceProps {
  vpc: ec2.IVpc;
  subnets: ec2.SubnetSelection;
  /** Tasks at deploy time, and the autoscaling minimum. */
  minCount: number;
  maxCount: number;
  /** Target average CPU utilization (percent) of the scaling policy. */
  targetCpuPercent: number;
  /** Fargate task CPU units (256 … 16384). */
  cpu: number;
  /** Fargate task memory (MiB): holds the memory-mapped HNSW indexes of the task's segments. */
  memoryMiB: number;
  /** Task disk (GiB, 21 … 200): the local cache of segment and index files downloaded from S3. */
  ephemeralStorageGiB: number;
  /** The querynode's internal HTTP port. */
  port: number;
  /** The only security group allowed to reach `port`. */
  clientSecurityGroup: ec2.ISecurityGroup;
  environment: Record<string, string>;
  logRemovalPolicy: RemovalPolicy;
  /** CPU architecture of the task and of its image. */
  architecture: MigransArchitecture;
  /** Run every task on FARGATE_SPOT (x86_64 only: resolveProps refuses it with arm64). */
  spot: boolean;
}

/** ECS cluster, task definition, Fargate service and its CPU autoscaling. */
export class QuerynodeService extends Construct {
  /** The service. */
  readonly service: ecs.FargateService;
  /** The role the querynode code runs with (grants go here). */
  readonly taskRole: iam.IRole;
  /** The querynodes' security group. */
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: QuerynodeServiceProps) {
    super(scope, id);
    const arm = props.architecture === 'arm64';
    // The Spot capacity provider must be associated with the cluster before a service can ask for it.
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, enableFargateCapacityProviders: props.spot });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      ephemeralStorageGiB: props.ephemeralStorageGiB,
      runtimePlatform: { cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: props.logRemovalPolicy });
    taskDefinition.addContainer('querynode', {
      // Synth only stages the build context (no Docker needed); `cdk deploy` builds and pushes it for the
      // task's platform (an arm64 image built on an x86 machine needs QEMU, lib/infra/README.md).
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, { platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64 }),
      environment: props.environment,
      portMappings: [{ containerPort: props.port, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'querynode', logGroup }),
      // SIGTERM, then this long to deregister from the registry and finish in-flight searches (well
      // inside the 2 minutes' warning Fargate Spot gives before it reclaims a task).
      stopTimeout: Duration.seconds(30),
      healthCheck: {
        command: QUERYNODE_HEALTH_CHECK_COMMAND,
        startPeriod: QUERYNODE_HEALTH_CHECK.startPeriod,
        interval: QUERYNODE_HEALTH_CHECK.interval,
        timeout: QUERYNODE_HEALTH_CHECK.timeout,
        retries: QUERYNODE_HEALTH_CHECK.retries,
      },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Migrans querynodes: internal API reachable only from the api function',
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(props.clientSecurityGroup, ec2.Port.tcp(props.port), 'api function to querynode internal API');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: props.minCount,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      // Start replacements before stopping old tasks, so segments move over without a gap; with the
      // health check, "started" means ready (registered, share loaded), not merely running.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: QUERYNODE_HEALTH_CHECK.gracePeriod,
      // Spot: all on FARGATE_SPOT, no FARGATE entry. ECS never falls back from Spot to FARGATE when Spot
      // has no capacity (a weight-0 FARGATE entry would never get a task), and a FARGATE base would take
      // the only task of a one-node stack off Spot. A reclaimed querynode gets SIGTERM, deregisters and
      // is replaced; its data is a cache of the shared state, so nothing acknowledged is at risk.
      capacityProviderStrategies: props.spot ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] : undefined,
    });
    // CloudFormation must associate the Spot provider with the cluster before it creates a service that
    // asks for it; the service only references the cluster itself, so say so (it covers the association).
    if (props.spot) this.service.node.addDependency(cluster);
    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minCount, maxCapacity: props.maxCount });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.targetCpuPercent,
      // Scaling in moves segments between querynodes (index reloads): do it slowly.
      scaleInCooldown: Duration.minutes(10),
      scaleOutCooldown: Duration.minutes(2),
    });
    this.taskRole = taskDefinition.taskRole;
  }
}
