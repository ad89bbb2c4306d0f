/**
 * The querynode fleet: a Fargate service running the repo-root Dockerfile (`bin/querynode.ts`), in the
 * VPC's private subnets, autoscaled on CPU. There is no load balancer: each querynode registers its
 * private address (`<ip>:<MIGRANS_QUERYNODE_PORT>`) in the registry of the Kv table, and the api
 * function calls the querynodes that own the segments it needs. The internal port checks the API token
 * too, and its security group admits only the api function's security group.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REPO_ROOT } from './migrans-function.ts';

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
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      ephemeralStorageGiB: props.ephemeralStorageGiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: props.logRemovalPolicy });
    taskDefinition.addContainer('querynode', {
      // Synth only stages the build context (no Docker needed); `cdk deploy` builds and pushes it.
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, { platform: Platform.LINUX_AMD64 }),
      environment: props.environment,
      portMappings: [{ containerPort: props.port, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'querynode', logGroup }),
      // SIGTERM, then this long to deregister from the registry and finish in-flight searches.
      stopTimeout: Duration.seconds(30),
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
      // Start replacements before stopping old tasks, so segments move over without a gap.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });
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
