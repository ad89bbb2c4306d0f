/**
 * ESLint flat config (`npm run lint`, run by `npm test`): typescript-eslint's recommended rules
 * (syntax-only, no type information, so the run stays fast on 2 cores) over the TypeScript
 * sources, with the few rules this code base deliberately departs from turned off below, each
 * with its reason. Layout is Prettier's job (.prettierrc), import layering dependency-cruiser's
 * (.dependency-cruiser.cjs): no stylistic or import rules here.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'data/**', 'dist/**', '.bench-cache/**', '.scratch/**', 'lib/engine/filter/filter-parser.generated.ts', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        URL: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        Response: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        __dirname: 'readonly',
        module: 'writable',
        require: 'readonly',
        globalThis: 'readonly',
      },
    },
  },
  {
    rules: {
      // `let { db, dir } = …` where only `db` is reassigned later: one destructuring, not two.
      'prefer-const': ['error', { destructuring: 'all' }],
      // Initialisers that every branch overwrites keep the code safe when a branch is added.
      'no-useless-assignment': 'off',
      // `_` names what is deliberately unused (loop variables, skipped tuple members).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      // `cond ? a.push(x) : b.add(x)` is used as a statement on purpose in a few hot loops.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
    },
  },
  {
    // Tests and benchmarks read untyped JSON answers of the REST API and of other systems.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS files (dependency-cruiser's config, the localstack hooks) load modules with require().
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
