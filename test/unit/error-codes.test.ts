/**
 * The one table from engine errors to Milvus wire codes (lib/api/error-codes.ts): every error class
 * lib/engine/errors.ts exports has its own stable `kind` and a mapping (so a class added without one
 * fails here), each maps to the code Milvus clients expect, and an error from a second copy of the
 * module (bundlers, mixed loading) still gets its code instead of a 65535.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_WIRE, ErrorCode, MilvusError, milvusCode, wireError } from '../../lib/api/error-codes.ts';
import * as errors from '../../lib/engine/errors.ts';

type ErrorClass = (abstract new (...args: never[]) => Error) & { kind: string };

/** Every error class lib/engine/errors.ts exports (EngineError itself is abstract and has no kind). */
const CLASSES = (Object.entries(errors) as [string, unknown][]).filter(
  (e): e is [string, ErrorClass] => typeof e[1] === 'function' && (e[1] as ErrorClass).prototype instanceof errors.EngineError,
);

const full = new errors.DiskFullError('/data/wal');

/** One instance of each class and the Milvus code a client must see for it. */
const SAMPLES: [Error, number][] = [
  [errors.collectionNotFound('c'), 100],
  [new errors.CollectionNotLoadedError('c'), 101],
  [new errors.CollectionDamagedError('c', 'its WAL is damaged', new Error('x')), 101],
  [new errors.PartitionNotFoundError('c', 'p'), 200],
  [new errors.IndexNotFoundError('c', 'ix', 'index not found[indexName=ix]'), 700],
  [new errors.IndexInUseError('c', 'ix'), 65535],
  [new errors.DatabaseNotFoundError('other'), 800],
  [new errors.AliasNotFoundError('default', 'a'), 1600],
  [new errors.AliasConflictError('default', 'a'), 1601],
  [new errors.AliasExistsError('default', 'a'), 1602],
  [errors.invalidParameter('bad limit'), 1100],
  [new errors.RequestFormatError('cannot find a vector field named: v'), 1801],
  [new errors.MissingParameterError('v', 'missing required parameters'), 1802],
  [new errors.BadInsertDataError('fail to deal the insert data', 0, 'v'), 1804],
  [new errors.ConsistencyTimeoutError('c', 'c1-0', 100, 9n, 5n), 10001],
  [new errors.ChannelStuckError('c', 'c1-0', 100, 9n, 5n, 3n, new Error('throttled')), 65535],
  [new errors.FlushTimeoutError('c1-0', 600, 9n), 10001],
  [new errors.OperationTimeoutError('applying channel c1-0'), 10001],
  [new errors.MemoryQuotaError(10, 20, 15, 10), 9],
  [new errors.DiskLimitError(2, undefined, full), 7],
  [full, 7],
  [new errors.ChannelUnavailableError('c1-0', 'channel c1-0 is unavailable'), 65535],
  [new errors.WalRecordMissingError('c1-0', 4n), 65535],
  [new errors.LeaseConflictError('c1-0'), 65535],
  [new errors.NotFoundError('seg/1'), 65535],
  [new errors.WalTruncatedError('c1-0', 5n, 9n), 65535],
  [new errors.StorageError('throttled'), 65535],
  [new errors.CorruptDataError('column chunk x is damaged'), 65535],
  [new errors.WalCorruptError('c1-0', 'wal/c1-0/1.log', 40, 'WAL damaged'), 65535],
  [new errors.WalBehindCheckpointError('c1-0', 9n, 5n, 'its checkpoint'), 65535],
  [new errors.DataDirInUseError('/data', 1, 'h', '/data/LOCK'), 65535],
];

describe('the error code table', () => {
  it('has a mapping for the kind of every error class the engine exports, and nothing else', () => {
    assert.ok(CLASSES.length >= 30, `found ${CLASSES.length} classes`);
    const kinds = new Set<string>();
    for (const [name, cls] of CLASSES) {
      assert.ok(Object.hasOwn(cls, 'kind'), `${name} needs a static kind of its own (a subclass would otherwise pass for its base)`);
      assert.ok(!kinds.has(cls.kind), `${name}'s kind ${cls.kind} is already another class's`);
      kinds.add(cls.kind);
      assert.ok(Object.hasOwn(ERROR_WIRE, cls.kind), `${name} (kind ${cls.kind}) has no Milvus code in lib/api/error-codes.ts`);
    }
    assert.deepEqual(
      Object.keys(ERROR_WIRE).filter((k) => !kinds.has(k)),
      [],
      'table entries without an engine error class',
    );
  });

  it('maps each engine error class to the Milvus code clients expect, keeping its message', () => {
    const covered = new Set(SAMPLES.map(([err]) => err.constructor));
    for (const [name, cls] of CLASSES) assert.ok(covered.has(cls), `add a sample of ${name} to SAMPLES with its expected code`);
    for (const [err, code] of SAMPLES) {
      assert.equal((err as errors.EngineError).kind, (err.constructor as ErrorClass).kind, `${err.name} carries its class's kind`);
      assert.equal(err.name, err.constructor.name);
      const wire = wireError(err);
      assert.equal(wire.code, code, `${err.name}: ${err.message}`);
      if (wire.internal) assert.equal(wire.message, `unexpected error: ${err.message}`, `${err.name} is a server fault, answered as 65535`);
      else if (!(err instanceof errors.DiskFullError)) assert.equal(wire.message, err.message, `${err.name} keeps its message on the wire`);
    }
  });

  it('keeps the wire texts Milvus clients match on', () => {
    assert.deepEqual(wireError(errors.collectionNotFound('x')), { code: 100, message: "can't find collection[database=default][collection=x]", internal: false });
    assert.equal(wireError(full).message, `disk limit exceeded: the server's disk is full (${full.message}); free space on the server's data disk, then retry`);
    assert.equal(
      wireError(new errors.DiskLimitError(2, 1, full)).message.startsWith(`disk quota exceeded: ${full.message}; but part of this request may be stored (on 1 of 2 channels)`),
      true,
    );
  });

  it("answers the REST layer's own errors with their code, and a full disk under any error as 7", () => {
    assert.equal(milvusCode(new MilvusError(ErrorCode.BadJson, 'bad json')), 1801);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    assert.equal(milvusCode(new errors.StorageError('append failed', { cause: enospc })), 7);
    assert.deepEqual(wireError(new Error('disk on fire')), { code: 65535, message: 'unexpected error: disk on fire', internal: true });
    assert.equal(milvusCode('a string'), 65535);
  });

  it('recognises errors from a second copy of the errors module by kind', async () => {
    const copy = (await import(`../../lib/engine/errors.ts?copy=${Date.now()}`)) as typeof errors;
    assert.notEqual(copy.CollectionNotLoadedError, errors.CollectionNotLoadedError, 'a distinct module instance');
    const err = new copy.CollectionNotLoadedError('c');
    assert.ok(!(err instanceof errors.CollectionNotLoadedError));
    assert.equal(milvusCode(err), 101, 'not a 65535');
    assert.ok(errors.isEngineError(new copy.WalTruncatedError('c1-0', 1n, 2n), errors.WalTruncatedError));
    assert.ok(!errors.isEngineError(new copy.NotFoundError('seg/1'), errors.WalTruncatedError));
  });
});
