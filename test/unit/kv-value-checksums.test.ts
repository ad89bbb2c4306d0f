/**
 * Checksums of the small persistent values: catalog entries (json-codec.ts), PK-index entries
 * (pk-index.ts) and delta logs (segment-io.ts). A flipped byte anywhere is a CorruptDataError naming
 * the key; values written before checksums (format 1) still read.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryKvStore } from '../../lib/adapters/memory/memory-kv-store.ts';
import { MemoryObjectStore } from '../../lib/adapters/memory/memory-object-store.ts';
import { Catalog, CATALOG_FORMAT_VERSION } from '../../lib/engine/catalog/catalog.ts';
import { decodeJson, encodeJson } from '../../lib/engine/catalog/json-codec.ts';
import { CorruptDataError } from '../../lib/engine/errors.ts';
import { encodePk, PkIndex } from '../../lib/engine/pk-index.ts';
import { decodeDeltaLog, writeDeltaLog } from '../../lib/engine/segment/segment-io.ts';
import type { Segment } from '../../lib/engine/segment/segment.ts';

const namesKey = (key: string) => (e: unknown) => e instanceof CorruptDataError && e.key === key && e.message.includes(key);

describe('catalog entries carry a checksum', () => {
  const value = { segmentId: 7, startPosition: 1234567890123456789n, indexFiles: { vector: 'index_files/1/a.hnsw' }, state: 'Flushed' };

  it('round-trips, bigints included', () => {
    assert.deepEqual(decodeJson(encodeJson(value), 'k'), value);
  });
  it('any flipped byte is a CorruptDataError naming the key, never a different value', () => {
    const good = encodeJson(value);
    for (let at = 0; at < good.length; at++) {
      for (const mask of [0x01, 0x10, 0x80]) {
        const bad = good.slice();
        bad[at] ^= mask;
        assert.throws(() => decodeJson(bad, 'meta/segment/1/7'), namesKey('meta/segment/1/7'), `byte ${at} ^ ${mask}`);
      }
    }
  });
  it('reads values written before checksums (bare JSON)', () => {
    assert.deepEqual(decodeJson(Buffer.from('{"a":1,"b":"$bigint:12345678901234567890"}'), 'k'), { a: 1, b: 12345678901234567890n });
    assert.throws(() => decodeJson(Buffer.from('{"a":'), 'meta/x'), namesKey('meta/x'));
  });
  it('the id mark covers its version: a damaged one is refused, not taken as a lower mark; an empty (old) mark still works', async () => {
    const kv = new MemoryKvStore();
    const first = await new Catalog(kv).allocateId();
    const [mark] = await kv.batchGetVersioned(['meta/id-block']);
    await kv.delete('meta/id-block');
    await kv.batchPutIfNewer([{ key: 'meta/id-block', value: mark!.value, version: mark!.version - 512n }]);
    await assert.rejects(new Catalog(kv).allocateId(), namesKey('meta/id-block'));
    await kv.delete('meta/id-block');
    await kv.batchPutIfNewer([{ key: 'meta/id-block', value: new Uint8Array(0), version: mark!.version }]);
    assert.ok((await new Catalog(kv).allocateId()) > first);
  });
  it('a catalog in format 1 opens and is stamped with the current format; a newer one is refused', async () => {
    const kv = new MemoryKvStore();
    await kv.put('meta/format', Buffer.from('1'));
    await new Catalog(kv).checkFormat();
    assert.equal(decodeJson<number>((await kv.get('meta/format'))!), CATALOG_FORMAT_VERSION);
    await kv.put('meta/format', encodeJson(99));
    await assert.rejects(new Catalog(kv).checkFormat(), CorruptDataError);
  });
});

describe('PK-index entries carry a checksum over the entry and its version', () => {
  it('a flipped byte or a changed version is a CorruptDataError naming the key; format-1 entries still read', async () => {
    const kv = new MemoryKvStore();
    const pk = new PkIndex(kv, 1);
    const entry = { location: { segmentId: 5, offset: 9 }, prev: { segmentId: 3, offset: 1 }, deleted: false, version: 42n };
    await pk.write([{ pk: 10n, entry }]);
    assert.deepEqual(await pk.lookup([10n]), [entry]);
    const key = `pk/000000000001/${encodePk(10n)}`;
    const [stored] = await kv.batchGetVersioned([key]);
    for (let at = 0; at < stored!.value.length; at++) {
      const bad = stored!.value.slice();
      bad[at] ^= 0x08;
      await kv.delete(key);
      await kv.batchPutIfNewer([{ key, value: bad, version: 42n }]);
      await assert.rejects(pk.lookup([10n]), namesKey(key), `byte ${at}`);
    }
    await kv.delete(key);
    await kv.batchPutIfNewer([{ key, value: stored!.value, version: 43n }]);
    await assert.rejects(pk.lookup([10n]), namesKey(key), 'the version is covered');
    await kv.delete(key);
    await kv.batchPutIfNewer([{ key, value: stored!.value.slice(0, 25), version: 42n }]);
    assert.deepEqual(await pk.lookup([10n]), [entry], 'a format-1 entry (no CRC)');
  });
});

describe('delta logs carry a checksum', () => {
  it('any flipped byte is a CorruptDataError naming the key; format-1 logs still read', async () => {
    const store = new MemoryObjectStore();
    const seg = { pendingDeletes: [3, 70000, 12], meta: { collectionId: 1, partition: '_default', segmentId: 4 } };
    const key = (await writeDeltaLog(store, seg as unknown as Segment, 99n))!; // only these two fields are used
    const good = await store.get(key);
    assert.deepEqual([...decodeDeltaLog(good, key)], [3, 70000, 12]);
    for (let at = 0; at < good.length; at++) {
      const bad = good.slice();
      bad[at] ^= 0x02;
      assert.throws(() => decodeDeltaLog(bad, key), namesKey(key), `byte ${at}`);
    }
    const v1 = new Uint8Array(good.length - 4);
    v1.set(good.subarray(0, 12));
    new DataView(v1.buffer).setUint16(4, 1, true);
    v1.set(good.subarray(16), 12);
    assert.deepEqual([...decodeDeltaLog(v1, key)], [3, 70000, 12]);
  });
});
