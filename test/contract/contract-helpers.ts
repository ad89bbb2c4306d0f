/** Small assertions and data shared by the storage contract suites. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Asserts `actual` is a Uint8Array holding exactly `expected`'s bytes. */
export function assertBytes(actual: unknown, expected: Uint8Array | string, message?: string): void {
  assert.ok(actual instanceof Uint8Array, `${message ?? 'value'}: expected a Uint8Array, got ${String(actual)}`);
  const want = typeof expected === 'string' ? new TextEncoder().encode(expected) : expected;
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(want.buffer, want.byteOffset, want.byteLength);
  if (!a.equals(b)) {
    assert.fail(`${message ?? 'bytes differ'}: got ${a.length} bytes ${a.subarray(0, 32).toString('hex')}…, want ${b.length} bytes ${b.subarray(0, 32).toString('hex')}…`);
  }
}

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Every byte value 0..255 once, in order (catches any text decoding or sign mishandling). */
export function allByteValues(): Uint8Array {
  const b = new Uint8Array(256);
  for (let i = 0; i < 256; i++) b[i] = i;
  return b;
}

/** Deterministic pseudo-random bytes (xorshift) so failures reproduce. */
export function pseudoRandomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Keys whose UTF-16 order differs from their UTF-8 byte order, plus ASCII neighbours. */
export const TRICKY_KEYS = ['k/a', 'k/ab', 'k/b', 'k/z', 'k/é', 'k/\uFFFD', 'k/\u{1F600}', 'k/\uE000', 'k/~', 'k/A', 'k/0'];

/** `keys` sorted by UTF-8 bytes, computed independently of the adapters' comparator. */
export function byteSorted(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** Collects an async iterable into an array. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A fresh temp directory under os.tmpdir() and its remover. */
export function makeTempDir(prefix: string): { dir: string; remove(): Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

/** Asserts that `promise` rejects with an error of class `cls` whose message matches `pattern` (if given). */
export async function rejectsWith(promise: Promise<unknown>, cls: abstract new (...args: never[]) => Error, pattern?: RegExp): Promise<Error> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a ${cls.name}, but the call succeeded`);
  assert.ok(caught instanceof cls, `expected a ${cls.name}, got ${(caught as Error)?.name}: ${(caught as Error)?.message}`);
  if (pattern) assert.match((caught as Error).message, pattern);
  return caught as Error;
}

/** Asserts that calling `fn` rejects or throws (any error): argument checks may be sync or async. */
export async function fails(fn: () => unknown, pattern?: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, 'expected the call to fail, but it succeeded');
  if (pattern) assert.match(caught.message, pattern);
}

/** Runs `script` under tsx, SIGKILLs it once it has acknowledged `target` writes; returns the last acknowledged index. */
export function runUntilKilled(script: string, target: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = -1;
    let buffered = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) last = Math.max(last, Number(l));
      if (last >= target && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`writer exited with ${code} before being killed: ${stderr}`));
    });
  });
}
