# The querynode container (bin/querynode.ts), built by `cdk deploy` from the repo root (lib/infra).
# Runs the TypeScript sources through tsx, the same way `npm start` does, so there is no build step;
# tsx is therefore a runtime dependency ("dependencies" in package.json).
FROM node:22-slim

WORKDIR /app
ENV NODE_ENV=production \
    # Local disk cache of segment and index files downloaded from S3 (on the task's ephemeral storage).
    # The querynode deletes and recreates this directory at start, so it lies inside /app/data (owned
    # by the node user), not at /app/data itself (whose parent, /app, belongs to root).
    MIGRANS_DATA_DIR=/app/data/querynode

# Dependencies first: this layer is rebuilt only when the lockfile changes. Native packages (usearch,
# lmdb, msgpackr-extract) pick the image platform's prebuilds (linux-x64, or linux-arm64 when the stack's
# architecture is arm64: npm ci runs inside the target platform, so an arm64 build on an x86 host needs
# QEMU, lib/infra/README.md); nothing is compiled.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY lib ./lib
RUN mkdir -p /app/data && chown node:node /app/data

USER node
# The internal API port (MIGRANS_QUERYNODE_PORT, set by the stack); reachable only from the api function.
EXPOSE 19531
CMD ["node", "--import", "tsx", "bin/querynode.ts"]
