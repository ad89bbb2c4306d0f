/**
 * Import rules of Migrans's layers, checked by `npm run lint:deps` (part of `npm run lint`, which
 * `npm test` runs): the hexagon of the architecture notes (ARCHITECTURE.md, design/engine-roles.md), as
 * today's layout spells it.
 *
 *   lib/engine/**    the domain: imports only lib/engine/**, node:zlib / node:crypto (pure
 *                    computation: crc32, hashes; no I/O) and lossless-json (a pure JSON parser).
 *                    Disk, time and the cloud go through lib/engine/ports.
 *   lib/adapters/**  implement ports: import adapters/**, engine/ports/**, engine/errors.ts and the
 *                    pure engine helpers they share with the engine (hash.ts: murmur3 for keys that
 *                    must match the engine's; codec/crc32.ts; search/selectivity.ts: the
 *                    exact-vs-graph estimate; read/shard-protocol.ts: the ShardClient port's wire types) plus any
 *                    npm package or node built-in.
 *   lib/infra/**     CDK: imports infra/**, aws-cdk-lib / constructs, node built-ins and the env
 *                    contract only (lib/aws/aws-env.ts; lib/config.ts for the engine's variables).
 *   composition roots (lib/embedded.ts, lib/aws/**, bin/**, lambdas/**) are the only modules that
 *                    import both the engine and adapters; lib/api and lib/config.ts import no adapter.
 *   everywhere       no import cycles.
 * Tests, benchmarks and scripts are not checked: they wire whatever they exercise.
 */

/** The pure engine modules adapters may share (see above). */
const ADAPTER_ENGINE_ALLOW = [
  '^lib/engine/ports/',
  '^lib/engine/read/shard-protocol\\.ts$',
  '^lib/engine/errors\\.ts$',
  '^lib/engine/hash\\.ts$',
  '^lib/engine/codec/crc32\\.ts$',
  '^lib/engine/search/selectivity\\.ts$',
];

/** Node built-ins that only compute (no file, network, process or timer access). */
const ENGINE_BUILTIN_ALLOW = '^(node:)?(zlib|crypto)$';

/** npm packages the engine may use: pure libraries only. */
const ENGINE_NPM_ALLOW = '^node_modules/lossless-json/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make load order matter and hide layering mistakes.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-only-engine',
      severity: 'error',
      comment: 'The engine imports only engine modules; adapters, the API, AWS glue, infra and composition roots import it, never the reverse.',
      from: { path: '^lib/engine/' },
      to: { path: '^(lib/|bin/|lambdas/)', pathNot: '^lib/engine/' },
    },
    {
      name: 'engine-no-io-builtins',
      severity: 'error',
      comment:
        'The engine never touches disk, network, processes or real time itself: it goes through a port (ports/local-files.ts, ports/clock.ts, …). node:zlib and node:crypto are allowed as pure computation.',
      from: { path: '^lib/engine/' },
      to: { dependencyTypes: ['core'], pathNot: ENGINE_BUILTIN_ALLOW },
    },
    {
      name: 'engine-pure-npm-only',
      severity: 'error',
      comment: 'The engine uses only the allow-listed pure npm libraries (AWS SDK, usearch, lmdb, CDK belong to adapters, composition roots and infra).',
      from: { path: '^lib/engine/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: ENGINE_NPM_ALLOW },
    },
    {
      name: 'adapters-only-ports',
      severity: 'error',
      comment: 'Adapters implement ports: from the engine they import only ports, errors and the shared pure helpers listed in .dependency-cruiser.cjs.',
      from: { path: '^lib/adapters/' },
      to: { path: '^lib/engine/', pathNot: ADAPTER_ENGINE_ALLOW },
    },
    {
      name: 'adapters-not-outward',
      severity: 'error',
      comment: 'Adapters do not import the API, AWS glue, infra, configuration or composition roots.',
      from: { path: '^lib/adapters/' },
      to: { path: '^(lib/|bin/|lambdas/)', pathNot: '^lib/(adapters|engine)/' },
    },
    {
      name: 'only-roots-import-adapters',
      severity: 'error',
      comment: 'Only composition roots (lib/embedded.ts, lib/aws/**, bin/**, lambdas/**) pick adapters.',
      from: { path: '^lib/', pathNot: '^lib/(adapters/|aws/|embedded\\.ts$)' },
      to: { path: '^lib/adapters/' },
    },
    {
      name: 'infra-only-env-contract',
      severity: 'error',
      comment: 'Infra (CDK) imports only the env contract: lib/aws/aws-env.ts and lib/config.ts (ENGINE_ENV).',
      from: { path: '^lib/infra/' },
      to: { path: '^(lib/|bin/|lambdas/)', pathNot: '^lib/(infra/|aws/aws-env\\.ts$|config\\.ts$)' },
    },
    {
      name: 'infra-npm-cdk-only',
      severity: 'error',
      comment: 'Infra uses CDK only (no SDK, no engine libraries): it describes resources, it does not run them.',
      from: { path: '^lib/infra/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], pathNot: '^node_modules/(aws-cdk-lib|constructs)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(test|bench|scripts)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], mainFields: ['module', 'main', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
