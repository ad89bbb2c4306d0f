import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, defaultGrowingBudgetBytes, isLoopbackHost, resolveEngineConfig, resolveServeConfig } from '../../lib/config.ts';

describe('resolveServeConfig', () => {
  it('uses defaults, then env, then flags', () => {
    assert.deepEqual(resolveServeConfig({}, {}), { host: '127.0.0.1', port: 19530, dataDir: path.resolve('./data') });
    const env = { MIGRANS_PORT: '8080', MIGRANS_HOST: '0.0.0.0', MIGRANS_DATA_DIR: '/tmp/x', MIGRANS_TOKEN: 't' };
    assert.deepEqual(resolveServeConfig({}, env), { host: '0.0.0.0', port: 8080, dataDir: '/tmp/x', token: 't' });
    assert.deepEqual(resolveServeConfig({ port: '0', host: 'localhost', dataDir: 'd', token: 'u' }, env), { host: 'localhost', port: 0, dataDir: path.resolve('d'), token: 'u' });
  });

  it('rejects bad values with clear messages', () => {
    assert.throws(
      () => resolveServeConfig({ port: 'abc' }, {}),
      (e: Error) => e instanceof ConfigError && /invalid port "abc"/.test(e.message),
    );
    assert.throws(() => resolveServeConfig({ port: '70000' }, {}), ConfigError);
    assert.throws(() => resolveServeConfig({ token: ' ' }, {}), /empty token/);
    assert.throws(() => resolveServeConfig({ dataDir: '' }, {}), /empty data directory/);
  });

  it('refuses a non-loopback host without a token', () => {
    assert.throws(() => resolveServeConfig({ host: '0.0.0.0' }, {}), /refusing to listen on 0.0.0.0 without a token/);
    assert.equal(resolveServeConfig({ host: '0.0.0.0', token: 'x' }, {}).host, '0.0.0.0');
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) assert.ok(!isLoopbackHost(h), h);
  });
});

describe('resolveEngineConfig', () => {
  it('reads engine knobs from MIGRANS_* variables and rejects bad values', () => {
    assert.deepEqual(resolveEngineConfig({}), {});
    assert.deepEqual(resolveEngineConfig({ MIGRANS_SEAL_ROWS: '500', MIGRANS_IDLE_SEAL_MS: '0' }), { sealRows: 500, idleSealMs: 0 });
    assert.throws(
      () => resolveEngineConfig({ MIGRANS_SEAL_ROWS: 'many' }),
      (e: unknown) => e instanceof ConfigError && /MIGRANS_SEAL_ROWS "many"/.test(e.message),
    );
    assert.throws(() => resolveEngineConfig({ MIGRANS_CONSISTENCY_TIMEOUT_MS: '-1' }), ConfigError);
  });

  it('reads the growing-data budget, refuses one too small to work with, and defaults it from the machine memory', () => {
    assert.deepEqual(resolveEngineConfig({ MIGRANS_GROWING_BUDGET_BYTES: '4194304' }), { growingBudgetBytes: 4194304 });
    for (const bad of ['0', '1000', '1048576.5']) {
      assert.throws(
        () => resolveEngineConfig({ MIGRANS_GROWING_BUDGET_BYTES: bad }),
        (e: unknown) => e instanceof ConfigError && e.message.includes(`MIGRANS_GROWING_BUDGET_BYTES ${JSON.stringify(bad)}`) && /at least 1048576/.test(e.message),
      );
    }
    const GiB = 1024 ** 3;
    assert.equal(defaultGrowingBudgetBytes(8 * GiB), 2 * GiB);
    assert.equal(defaultGrowingBudgetBytes(64 * GiB), 4 * GiB);
    assert.equal(defaultGrowingBudgetBytes(1024 * 1024), 1024 * 1024);
  });
});
