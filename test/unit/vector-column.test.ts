/** Lazily read vector columns (VectorColumn.fromFile): every way of reading them sees the file's vectors. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { CHUNK_BLOCK_BYTES, chunkHeadBytes, COLUMN_HEADER_BYTES, encodeVectors, vectorChunkLayout } from '../../lib/engine/codec/column-codec.ts';
import { CorruptDataError } from '../../lib/engine/errors.ts';
import { ensureVectors } from '../../lib/engine/ports/lazy-vectors.ts';
import { VectorColumn } from '../../lib/engine/segment/vector-column.ts';
import { rng } from '../support/data.ts';
import { FolderLocalFiles } from '../../lib/adapters/local/local-files.ts';

const DIM = 16;

function chunkFile(rows: number): { file: string; flat: Float32Array; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrans-vc-'));
  const r = rng(3);
  const flat = new Float32Array(rows * DIM).map(() => r() - 0.5);
  const file = path.join(dir, 'chunk');
  fs.writeFileSync(file, encodeVectors(flat, DIM));
  return { file, flat, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function layoutOf(bytes: Uint8Array) {
  const head = bytes.subarray(0, chunkHeadBytes(bytes.subarray(0, COLUMN_HEADER_BYTES), bytes.length, 'chunk'));
  return vectorChunkLayout(head, bytes.length, 'chunk')!;
}

function open(file: string, background = true): VectorColumn {
  const layout = layoutOf(fs.readFileSync(file));
  return VectorColumn.fromFile(layout.dim, layout.rowCount, new FolderLocalFiles(path.dirname(file)).open(file), layout.payloadOffset, background, {
    blocks: layout.blocks!,
    key: 'insert_log/1/_default/9/101/1',
  });
}

/** Flips one bit of the vector bytes of `row` in the chunk file. */
function damageRow(file: string, row: number): void {
  const bytes = fs.readFileSync(file);
  bytes[layoutOf(bytes).payloadOffset + row * DIM * 4 + 1] ^= 0x04;
  fs.writeFileSync(file, bytes);
}

const namesChunk = (e: unknown) => e instanceof CorruptDataError && e.key === 'insert_log/1/_default/9/101/1' && /checksum of block/.test(e.message);

describe('VectorColumn.fromFile', () => {
  // 300k rows × 64 bytes: several background steps, so reads happen while it is still loading.
  const ROWS = 300_000;

  it('answers get() for any row before the background read reaches it', () => {
    const { file, flat, cleanup } = chunkFile(ROWS);
    const col = open(file);
    assert.ok(col.loading);
    for (const i of [ROWS - 1, 0, 123_456]) assert.deepEqual(col.get(i), flat.subarray(i * DIM, (i + 1) * DIM));
    col.close();
    cleanup();
  });

  it('completes synchronously for loadedData(), squaredNorms() and ensureVectors() on the raw array', () => {
    const { file, flat, cleanup } = chunkFile(ROWS);
    for (const read of ['loadedData', 'norms', 'ensure'] as const) {
      const col = open(file);
      const raw = col.data();
      if (read === 'loadedData') assert.deepEqual(col.loadedData(), flat);
      else if (read === 'norms')
        assert.equal(
          col.squaredNorms()[ROWS - 1],
          flat.subarray((ROWS - 1) * DIM).reduce((s, x) => s + x * x, 0),
        );
      else ensureVectors(raw);
      assert.deepEqual(raw, flat);
      assert.equal(col.loading, false);
    }
    cleanup();
  });

  it('finishes in the background, also after the file is deleted', async () => {
    const { file, flat, cleanup } = chunkFile(ROWS);
    const col = open(file);
    cleanup();
    while (col.loading) await tick();
    assert.deepEqual(col.data(), flat);
  });

  it('rejects a chunk whose size does not match its header', () => {
    const { file, cleanup } = chunkFile(10);
    const bytes = fs.readFileSync(file);
    assert.throws(() => vectorChunkLayout(bytes.subarray(0, chunkHeadBytes(bytes, bytes.length)), bytes.length - 4), CorruptDataError);
    cleanup();
  });

  it('a damaged row is a checksum error naming the chunk for get(), not a wrong vector; other blocks still read', () => {
    const { file, flat, cleanup } = chunkFile(ROWS);
    const bad = 200_000;
    damageRow(file, bad);
    for (const background of [false, true]) {
      const col = open(file, background);
      assert.throws(() => col.get(bad), namesChunk);
      const rowsPerBlock = CHUNK_BLOCK_BYTES / (DIM * 4);
      const far = bad - 3 * rowsPerBlock;
      assert.deepEqual(col.get(far), flat.subarray(far * DIM, (far + 1) * DIM));
      col.close();
    }
    cleanup();
  });

  it('a damaged block stops the load: loadedData() and ensureVectors() throw the checksum error', async () => {
    const { file, cleanup } = chunkFile(ROWS);
    damageRow(file, ROWS - 10);
    const col = open(file);
    await tick();
    assert.throws(() => col.loadedData(), namesChunk);
    assert.throws(() => ensureVectors(col.data()), namesChunk);
    assert.throws(() => col.get(ROWS - 10), namesChunk);
    col.close();
    cleanup();
  });

  it('a damaged head is refused when the column is opened', () => {
    const { file, cleanup } = chunkFile(10);
    const bytes = fs.readFileSync(file);
    bytes[COLUMN_HEADER_BYTES] ^= 1; // the block table
    assert.throws(
      () => vectorChunkLayout(bytes.subarray(0, chunkHeadBytes(bytes, bytes.length)), bytes.length, 'k'),
      (e: unknown) => e instanceof CorruptDataError && e.key === 'k' && /header/.test(e.message),
    );
    cleanup();
  });
});
