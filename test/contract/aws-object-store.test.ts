/** Runs the ObjectStore contract against S3ObjectStore on s3rver, then S3-specific checks (paging, errors). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../lib/adapters/aws/s3-object-store.ts';
import { NotFoundError, StorageError } from '../../lib/engine/errors.ts';
import type { ObjectStore } from '../../lib/engine/ports/object-store.ts';
import { EMULATOR_BUCKET, startEmulators, type Emulators } from '../support/emulators.ts';
import { assertBytes, rejectsWith, utf8 } from './contract-helpers.ts';
import { objectStoreContract } from './object-store-contract.ts';

let emulators: Emulators | undefined;
let fixtures = 0;

before(async () => {
  emulators = await startEmulators({ services: ['s3'] });
});
after(async () => {
  await emulators?.stop();
});

/** A store under a prefix no other test uses, so each case starts empty without creating buckets. */
function freshStore(client?: S3Client): S3ObjectStore {
  return new S3ObjectStore({ bucket: EMULATOR_BUCKET, prefix: `t${process.pid}-${++fixtures}/`, client });
}

objectStoreContract('S3 (s3rver)', async () => {
  const store = freshStore();
  return {
    store,
    reopen: async () => new S3ObjectStore({ bucket: store.bucket, prefix: store.prefix }),
    cleanup: async () => {
      await new S3ObjectStore({ bucket: EMULATOR_BUCKET }).deletePrefix(store.prefix);
    },
  };
});

describe('S3ObjectStore specifics', () => {
  it('keeps keys under its prefix, works with forcePathStyle clients, and offers no localPath', async () => {
    const client = new S3Client({ forcePathStyle: true });
    const s = freshStore(client);
    await s.put('a/b', utf8('x'));
    const raw = await client.send(new ListObjectsV2Command({ Bucket: EMULATOR_BUCKET, Prefix: s.prefix }));
    assert.deepEqual(
      raw.Contents?.map((o) => o.Key),
      [`${s.prefix}a/b`],
    );
    assert.equal((s as ObjectStore).localPath, undefined);
    const viaUrl = S3ObjectStore.fromUrl(`s3://${EMULATOR_BUCKET}/${s.prefix.slice(0, -1)}`);
    assertBytes(await viaUrl.get('a/b'), 'x');
    assert.equal(await s.deletePrefix('a/'), 1);
  });

  it('lists and deletes beyond one page of 1000 keys (continuation tokens, DeleteObjects batches)', async () => {
    const s = freshStore();
    const keys = Array.from({ length: 1010 }, (_, i) => `page/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => s.put(k, utf8(k))));
    await s.put('pagf', utf8('outside'));
    assert.deepEqual(await s.list('page/'), keys);
    assert.equal(await s.deletePrefix('page/'), keys.length);
    assert.deepEqual(await s.list('pag'), ['pagf']);
  });

  it('pages with small pages too (a client that asks for 7 keys per ListObjectsV2)', async () => {
    const client = new S3Client({ forcePathStyle: true });
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { MaxKeys?: number };
        input.MaxKeys = 7;
        return next(args);
      },
      { step: 'initialize', name: 'smallListPages' },
    );
    const s = freshStore(client);
    const keys = Array.from({ length: 30 }, (_, i) => `small/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => s.put(k, utf8(k))));
    assert.deepEqual(await s.list('small/'), keys);
    assert.equal(await s.deletePrefix('small/'), 30);
  });

  it('reports a missing bucket as StorageError and a missing key as NotFoundError', async () => {
    const s = new S3ObjectStore({ bucket: 'no-such-bucket-here' });
    await rejectsWith(s.get('k'), StorageError, /no-such-bucket-here.*does not exist/);
    await rejectsWith(s.list(''), StorageError, /does not exist/);
    await rejectsWith(freshStore().get('nope/x'), NotFoundError, /nope\/x/);
  });

  it('turns an unreachable endpoint into StorageError naming the operation and key', async () => {
    const client = new S3Client({ endpoint: 'http://127.0.0.1:9', forcePathStyle: true, maxAttempts: 1 });
    const s = new S3ObjectStore({ bucket: EMULATOR_BUCKET, client });
    const err = await rejectsWith(s.put('k/1', utf8('x')), StorageError, /PutObject of s3:\/\/migrans-test\/k\/1/);
    assert.ok(err.cause, 'keeps the SDK error as cause');
  });

  it('rejects bad bucket names and prefixes up front', () => {
    assert.throws(() => new S3ObjectStore({ bucket: 'Bad_Bucket' }), RangeError);
    assert.throws(() => new S3ObjectStore({ bucket: EMULATOR_BUCKET, prefix: '/abs' }), RangeError);
    assert.throws(() => S3ObjectStore.fromUrl('http://x/y'), /s3:\/\/bucket/);
  });
});
