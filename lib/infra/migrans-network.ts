/**
 * The VPC the querynodes (and the api function, which calls them on their private IPs) run in.
 *
 * Egress choice: private subnets reach AWS through NAT gateways, plus the two free gateway endpoints
 * (S3, DynamoDB) that carry the bulk of the traffic (segment and index downloads, PK-index lookups).
 * What still crosses the NAT is Kinesis (api appends, querynodes tailing), Secrets Manager (the token,
 * once per start), Lambda (the api function invoking the indexer), ECR image pulls and CloudWatch Logs.
 * The alternative, interface endpoints for those six services, costs about 6 endpoints × 2 AZs ×
 * $0.01/h ≈ $88/month before traffic, against
 * ≈ $33/month for one NAT gateway (+ $0.045/GB processed); so one NAT is the cheaper default and
 * `natGateways: 2` buys AZ-independent egress for ≈ $33/month more.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/** Props of MigransNetwork. */
export interface MigransNetworkProps {
  /** NAT gateways (1 = cheapest; 2 = one per AZ, no cross-AZ egress dependency). */
  natGateways: number;
}

/** A two-AZ VPC: public subnets for the NAT gateways, private subnets for querynodes and the api function. */
export class MigransNetwork extends Construct {
  /** The VPC. */
  readonly vpc: ec2.Vpc;
  /** Where querynodes and the api function run. */
  readonly privateSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

  constructor(scope: Construct, id: string, props: MigransNetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
  }
}
