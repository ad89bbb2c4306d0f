/** Runs the KvStore contract against every adapter, then checks what only the LMDB store promises. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LmdbKvStore } from '../../lib/adapters/local/lmdb-kv-store.ts';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import type { KvStore } from '../../lib/engine/ports/kv-store.ts';
import { assertBytes, byteSorted, collect, makeTempDir, runUntilKilled, utf8 } from './contract-helpers.ts';
import { kvStoreContract } from './kv-store-contract.ts';

kvStoreContract('memory', async () => {
  const store = new MemoryKvStore();
  return { store, cleanup: () => store.close() };
});

kvStoreContract('lmdb', async () => {
  const tmp = makeTempDir('migrans-kv-');
  let current: KvStore = await LmdbKvStore.open(tmp.dir);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = await LmdbKvStore.open(tmp.dir);
      return current;
    },
    cleanup: async () => {
      await current.close();
      await tmp.remove();
    },
  };
});

describe('LmdbKvStore specifics', () => {
  it('orders string keys by UTF-8 bytes, control characters and astral planes included', async () => {
    const tmp = makeTempDir('migrans-kv-');
    const kv = await LmdbKvStore.open(tmp.dir);
    try {
      const keys: string[] = [];
      for (let c = 1; c < 0x30; c++) keys.push(`k${String.fromCharCode(c)}`, String.fromCharCode(c) + 'z');
      keys.push('a', 'ab', '\u007f', '\u0080', '\u07ff', '\u0800', '\uD7FF', '\uE000', '\uFFFF', '\u{10000}', '\u{10FFFF}', '1', '12', '-1', 'true', 'null');
      await kv.batchPut(keys.map((key) => ({ key, value: utf8(key) })));
      const got = await collect(kv.scan({}));
      assert.deepEqual(
        got.map((e) => e.key),
        byteSorted([...new Set(keys)]),
      );
      for (const e of got) assert.equal(typeof e.key, 'string');
    } finally {
      await kv.close();
      await tmp.remove();
    }
  });

  it('deletePrefix and deleteRange work through more keys than one transaction takes', async () => {
    const tmp = makeTempDir('migrans-kv-');
    const kv = await LmdbKvStore.open(tmp.dir);
    try {
      const keys = Array.from({ length: 23_000 }, (_, i) => `bulk/${String(i).padStart(6, '0')}`);
      await kv.batchPut(keys.map((key) => ({ key, value: utf8('p') })));
      await kv.batchPutIfNewer(keys.slice(0, 12_000).map((key) => ({ key: `${key}/v`, value: utf8('v'), version: 1n })));
      await kv.put('bulk0', utf8('outside the prefix'));
      assert.equal(await kv.deleteRange({ start: 'bulk/000000', end: 'bulk/001000' }), 2000); // 1000 plain + 1000 versioned
      assert.equal(await kv.deletePrefix('bulk/'), 22_000 + 11_000);
      assert.deepEqual(
        (await collect(kv.scan({}))).map((e) => e.key),
        ['bulk0'],
      );
      assert.equal(await kv.getVersioned('bulk/011999/v'), undefined);
    } finally {
      await kv.close();
      await tmp.remove();
    }
  });

  it('acknowledged writes survive kill -9 of the writing process', async () => {
    const tmp = makeTempDir('migrans-kv-');
    try {
      const script = path.join(tmp.dir, 'writer.mjs');
      const module = pathToFileURL(path.resolve('lib/adapters/local/lmdb-kv-store.ts')).href;
      fs.writeFileSync(
        script,
        `import { LmdbKvStore } from ${JSON.stringify(module)};
const kv = await LmdbKvStore.open(${JSON.stringify(path.join(tmp.dir, 'db'))});
for (let i = 0; ; i++) {
  await kv.put('plain/' + i, new TextEncoder().encode('p' + i));
  await kv.putIfNewer('ver/' + (i % 7), new TextEncoder().encode('v' + i), BigInt(i));
  process.stdout.write(i + '\\n');
}
`,
      );
      const acked = await runUntilKilled(script, 40);
      const kv = await LmdbKvStore.open(path.join(tmp.dir, 'db'));
      try {
        for (let i = 0; i <= acked; i++) assertBytes(await kv.get(`plain/${i}`), `p${i}`, `plain/${i}`);
        for (let k = 0; k < 7; k++) {
          const last = acked - ((acked - k + 7 * 1000) % 7); // highest i <= acked with i % 7 == k
          const got = await kv.getVersioned(`ver/${k}`);
          assert.ok(got && got.version >= BigInt(last), `ver/${k} has version ${got?.version}, acknowledged ${last}`);
        }
      } finally {
        await kv.close();
      }
    } finally {
      await tmp.remove();
    }
  });
});
