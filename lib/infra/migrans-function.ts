/**
 * One Lambda function of the deployment (`lambdas/<role>/handler.ts`), bundled the same way for every
 * role: ESM, source maps, the AWS SDK bundled (the runtime's copy is older than ours), and the native
 * packages installed into the asset instead of bundled (esbuild cannot bundle `.node` binaries).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, type Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root (this file is lib/infra/migrans-function.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Node runtime of every function. Lambda blocked creating nodejs20.x functions on 2026-08-31 (updates
 * from 2026-09-30), so 22 is the oldest runtime a deploy can still use; the native packages are N-API
 * prebuilds and run unchanged on it.
 */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;

/**
 * CPU architecture of the functions and of the querynode task. 'arm64' (Graviton) is about 20 % cheaper
 * per GB-second / vCPU-hour; every native package ships linux-arm64 builds (usearch in its own
 * prebuilds/, lmdb and msgpackr-extract as @lmdb/lmdb-linux-arm64 and
 * @msgpackr-extract/msgpackr-extract-linux-arm64 in package-lock.json).
 */
export type MigransArchitecture = 'x86_64' | 'arm64';

/** The architectures a stack accepts. */
export const MIGRANS_ARCHITECTURES: readonly MigransArchitecture[] = ['x86_64', 'arm64'];

/** npm's name for an architecture (`npm_config_cpu`, and usearch's `prebuilds/linux-<cpu>`). */
export function npmCpu(architecture: MigransArchitecture): 'x64' | 'arm64' {
  return architecture === 'arm64' ? 'arm64' : 'x64';
}

/**
 * Packages with native code: installed with npm into the asset (from package-lock.json), never bundled.
 * `msgpackr-extract` is lmdb's optional native codec, reached through msgpackr.
 */
export const NATIVE_MODULES = ['usearch', 'lmdb', 'msgpackr-extract'];

/** The roles that have a handler in lambdas/<role>/handler.ts. */
export type LambdaRole = 'api' | 'ingest' | 'indexer' | 'compactor';

/** Props of MigransFunction. */
export interface MigransFunctionProps {
  /** Which handler to deploy. */
  role: LambdaRole;
  /** CPU architecture; the native packages installed into the asset follow it. */
  architecture: MigransArchitecture;
  /** Environment (the AWS_ENV contract). */
  environment: Record<string, string>;
  memorySize: number;
  timeout: Duration;
  ephemeralStorageSize?: Size;
  /** The VPC to run in (only the api function needs one: it calls querynodes' private IPs). */
  vpc?: ec2.IVpc;
  vpcSubnets?: ec2.SubnetSelection;
  securityGroups?: ec2.ISecurityGroup[];
  /** Concurrent executions reserved for the function, and so its most (none when unset). */
  reservedConcurrentExecutions?: number;
  /** What happens to the log group when the stack is deleted. */
  logRemovalPolicy: RemovalPolicy;
}

/** A role's Lambda function with its own log group. */
export class MigransFunction extends Construct {
  /** The function. */
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: MigransFunctionProps) {
    super(scope, id);
    const cpu = npmCpu(props.architecture);
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: props.logRemovalPolicy });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'lambdas', props.role, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      // The native builds npm installs into the asset are picked for this same architecture (npm_config_cpu below).
      architecture: props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      environment: {
        POWERTOOLS_SERVICE_NAME: `migrans-${props.role}`,
        // Stack traces point into lib/…/*.ts instead of the bundle (CDK emits the maps but leaves this to us).
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup,
      bundling: {
        format: OutputFormat.ESM,
        sourceMap: true,
        // Bundled code that calls require() (CommonJS dependencies) needs a require in ESM scope.
        banner: "import { createRequire as __migransCreateRequire } from 'node:module'; const require = __migransCreateRequire(import.meta.url);",
        // Bundle the SDK instead of using the runtime's: ours is newer, and pinned by package-lock.json.
        externalModules: [],
        nodeModules: NATIVE_MODULES,
        environment: {
          // Install the function's platform (linux, its architecture) builds whatever machine
          // synthesizes: npm selects lmdb's and msgpackr-extract's optional platform packages by these,
          // and it runs on the host (local bundling), so no emulation is involved. Skip install scripts
          // (prebuilds are chosen at load time, so nothing needs compiling), and use the npm cache that
          // `npm ci` filled, so synth needs no network after a fresh `npm ci` on a machine of that platform.
          npm_config_os: 'linux',
          npm_config_cpu: cpu,
          npm_config_libc: 'glibc',
          npm_config_ignore_scripts: 'true',
          npm_config_prefer_offline: 'true',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
        },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The HNSW build runs in a worker thread whose module is resolved next to the bundle
          // (`./hnsw-build-worker.js`, see lib/adapters/vector/build-hnsw-in-worker.ts); esbuild only
          // follows static imports, so bundle that entry too (CommonJS: the asset has no "type": "module").
          afterBundling: (inputDir: string, outputDir: string) => [
            // usearch ships its C/C++ sources (~15 MB) and every platform's prebuild: keep the function's
            // only, and fail the bundling rather than ship a function whose usearch cannot load.
            `cd "${outputDir}/node_modules/usearch" && (test -d prebuilds/linux-${cpu} || (echo "usearch ships no prebuilds/linux-${cpu}" >&2; exit 1)) && rm -rf c cpp cmake include numkong && find prebuilds -mindepth 1 -maxdepth 1 ! -name linux-${cpu} -exec rm -rf {} +`,
            [
              `"${path.join(inputDir, 'node_modules', '.bin', 'esbuild')}"`,
              `"${path.join(inputDir, 'lib', 'adapters', 'vector', 'hnsw-build-worker.ts')}"`,
              '--bundle',
              '--platform=node',
              '--target=node22',
              '--format=cjs',
              ...NATIVE_MODULES.map((m) => `--external:${m}`),
              `--outfile="${path.join(outputDir, 'hnsw-build-worker.js')}"`,
              '--log-level=warning',
            ].join(' '),
          ],
        },
      },
    });
  }
}
