#!/usr/bin/env bash
# Deploys MigransStack to a running LocalStack (docker compose -f localstack/docker-compose.yml up -d)
# with cdklocal, without the Fargate querynodes (LocalStack Community has no ECS: run the querynode as
# a local process, see localstack/README.md), then prints the environment for that process and runs
# the LocalStack integration tests if there are any (test/localstack/*.test.ts).
#
# cdklocal (npm package aws-cdk-local) is not a project dependency; this script runs a pinned version
# with `npx --yes --package aws-cdk-local@<version>`, which downloads it once from the npm registry.
# It drives the project's own CDK CLI (node_modules/.bin/cdk), so run `npm ci` first.
set -euo pipefail
cd "$(dirname "$0")/.."

CDKLOCAL_VERSION=3.0.4
STACK=${STACK:-Migrans}
export AWS_ENDPOINT_URL=${AWS_ENDPOINT_URL:-http://localhost:4566}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_DEFAULT_REGION=$AWS_REGION
export PATH="$PWD/node_modules/.bin:$PATH"
OUTPUTS=cdk.out/localstack-outputs.json

if ! curl -fsS "$AWS_ENDPOINT_URL/_localstack/health" >/dev/null; then
  echo "LocalStack is not answering at $AWS_ENDPOINT_URL; start it with:" >&2
  echo "  docker compose -f localstack/docker-compose.yml up -d" >&2
  exit 1
fi

cdklocal() { npx --yes --package "aws-cdk-local@$CDKLOCAL_VERSION" cdklocal "$@"; }

# LocalStack's account is 000000000000.
cdklocal bootstrap "aws://000000000000/$AWS_REGION"
cdklocal deploy "$STACK" --require-approval never --outputs-file "$OUTPUTS" \
  -c stackName="$STACK" -c querynodes=external -c removalPolicy=destroy "$@"

# Stack outputs → the environment a local querynode and the tests need: the querynodes' own (the
# QuerynodeEnvironment output), the address the Lambda containers reach the host at, the API URL.
ENV_FILE=cdk.out/localstack.env
node --import tsx --input-type=module -e '
  const { AWS_ENV } = await import("./lib/aws/aws-env.ts");
  const fs = await import("node:fs");
  const o = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))[process.argv[2]];
  const { AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
  const lines = {
    ...JSON.parse(o.QuerynodeEnvironment),
    [AWS_ENV.querynodeAddress]: "host.docker.internal",
    MIGRANS_API_URL: `${AWS_ENDPOINT_URL}/restapis/${o.ApiId}/prod/_user_request_`,
    AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
  };
  console.log(Object.entries(lines).map(([k, v]) => `export ${k}=${JSON.stringify(String(v))}`).join("\n"));
' "$PWD/$OUTPUTS" "$STACK" > "$ENV_FILE"

echo
echo "Deployed. Environment for a local querynode and the tests: $ENV_FILE"
echo "  source $ENV_FILE && node --import tsx bin/querynode.ts"
echo "API token:"
echo "  aws --endpoint-url $AWS_ENDPOINT_URL secretsmanager get-secret-value --secret-id \"\$MIGRANS_TOKEN_SECRET_ARN\" --query SecretString --output text"

shopt -s nullglob
tests=(test/localstack/*.test.ts)
if ((${#tests[@]})); then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  node --import tsx --test "${tests[@]}"
fi
