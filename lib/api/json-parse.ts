/**
 * Request JSON parsing that keeps Int64 exact and never stalls the server. Integers beyond ±2^53
 * become `bigint`, every other number a `number`. Bodies without such integers (almost all) are
 * parsed once by the native JSON.parse; only when its result holds a number that is an integer beyond
 * ±2^53 (where the literal may have lost digits) is the text parsed again by lossless-json (about 2×
 * slower). Checking the parsed values instead of prescanning the text with a regular expression
 * matters for large inserts: the prescan took a quarter of the parse time of a 1,000-row, 128-d body.
 * Duplicate keys keep the last value, as Go does.
 *
 * Bounds (request-limits.ts): a linear scan counts the nesting outside strings before anything is
 * parsed, and a body nested deeper than MAX_REQUEST_DEPTH is refused with 1801 (JSON.parse took 25 s
 * and 2 GB on a 64 MiB `[[[…]]]`, and every recursive step after it overflowed the stack). A body
 * larger than CHUNK_BYTES is scanned, decoded and parsed in slices with the event loop free in
 * between: each top-level array member (an insert's `data`, a search's vectors) is cut between its
 * elements and parsed a slice at a time, so other clients are answered while a 60 MB insert is read
 * (it blocked them ~1 s before).
 */
import { parse as parseLossless } from 'lossless-json';
import { ErrorCode, MilvusError } from './error-codes.ts';
import { MAX_REQUEST_DEPTH } from '../engine/request-limits.ts';
import { BAD_JSON_PREFIX } from './bind.ts';

/** Bytes scanned or parsed in one go before the event loop gets a turn (~5–15 ms of work). */
export const CHUNK_BYTES = 1 << 20;

const INTEGER = /^-?\d+$/;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function parseNumber(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !INTEGER.test(text)) return n;
  return BigInt(text);
}

function keepLast(info: { newValue: unknown }): unknown {
  return info.newValue;
}

/** Whether a number could be a rounded integer literal (an integer outside the safe range). */
function unsafeInteger(n: number): boolean {
  return (n >= 9007199254740992 || n <= -9007199254740992) && n - n === 0 && Math.floor(n) === n;
}

/** Whether any number in a JSON.parse result is an integer beyond ±2^53 (iterative: no deep recursion). */
function hasUnsafeInteger(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (unsafeInteger(v)) return true;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === 'number') {
          if (unsafeInteger(x)) return true;
        } else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    } else if (typeof v === 'object' && v !== null) {
      for (const k in v) {
        const x = (v as Record<string, unknown>)[k];
        if (typeof x === 'number') {
          if (unsafeInteger(x)) return true;
        } else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
  }
  return false;
}

/** Parses JSON text; throws SyntaxError with a position on malformed input. No depth check: see parseJsonBody. */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (!hasUnsafeInteger(value)) return value;
  return parseLossless(text, null, { parseNumber, onDuplicateKey: keepLast });
}

/** A top-level member whose value is an array, with the offsets where it may be cut between elements. */
interface TopArray {
  /** Offset of its `[`. */
  start: number;
  /** Offset of its `]` (-1 until seen). */
  end: number;
  /** Offsets of element-separating commas, about CHUNK_BYTES apart. */
  cuts: number[];
}

/** Where a scan of the body bytes stands; carried from one slice to the next. */
class Scan {
  depth = 0;
  inString = false;
  escaped = false;
  /** The body is an object, so its array members can be parsed in slices. */
  readonly topObject: boolean;
  readonly arrays: TopArray[] = [];
  private open: TopArray | null = null;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly tooDeepCode: number,
  ) {
    let i = start;
    while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
    this.topObject = bytes[i] === OPEN_OBJECT;
  }

  /**
   * Scans bytes [from, to); throws 1801 when the nesting passes MAX_REQUEST_DEPTH. Bytes, not
   * characters: JSON's structural characters are ASCII, and no byte of a multi-byte UTF-8 sequence is.
   */
  run(from: number, to: number): void {
    const bytes = this.bytes;
    let { depth, inString, escaped } = this;
    for (let i = from; i < to; i++) {
      const c = bytes[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > MAX_REQUEST_DEPTH) {
          throw new MilvusError(
            this.tooDeepCode,
            `${this.tooDeepCode === ErrorCode.BadJson ? BAD_JSON_PREFIX : 'invalid insert data'}, error: the request body nests more than ${MAX_REQUEST_DEPTH} levels deep (at byte ${i}); ` +
              `the limit is ${MAX_REQUEST_DEPTH}: flatten the value, or send deep JSON as a string`,
          );
        }
        if (depth === 2 && c === OPEN_ARRAY && this.topObject) this.arrays.push((this.open = { start: i, end: -1, cuts: [] }));
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        if (depth === 2 && this.open) {
          this.open.end = i;
          this.open = null;
        }
        depth--;
      } else if (c === COMMA && depth === 2 && this.open) {
        const cuts = this.open.cuts;
        if (i - (cuts.length > 0 ? cuts[cuts.length - 1]! : this.open.start) >= CHUNK_BYTES) cuts.push(i);
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }
}

/** Lets the event loop run other requests. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Parses a request body (text, or UTF-8 bytes with an optional BOM) as parseJson does, after
 * checking its nesting depth; bodies over CHUNK_BYTES are scanned, decoded and parsed in slices,
 * yielding to the event loop between them. Throws SyntaxError on malformed JSON and MilvusError
 * `tooDeepCode` (1801 unless the body carries rows, where the deep part is a row's value) past the
 * depth limit.
 */
export async function parseJsonBody(body: string | Uint8Array, tooDeepCode: number = ErrorCode.BadJson): Promise<unknown> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const scan = new Scan(bytes, start, tooDeepCode);
  if (bytes.length <= CHUNK_BYTES) {
    scan.run(start, bytes.length);
    return parseJson(typeof body === 'string' && start === 0 ? body : bytes.toString('utf8', start));
  }
  for (let from = start; from < bytes.length; from += CHUNK_BYTES) {
    scan.run(from, Math.min(bytes.length, from + CHUNK_BYTES));
    await yieldToEventLoop();
  }
  // Only arrays long enough to be cut are worth parsing apart; unbalanced text is left to JSON.parse.
  const split = scan.arrays.filter((a) => a.cuts.length > 0 && a.end > 0);
  if (split.length === 0 || scan.depth !== 0 || scan.inString) return parseJson(bytes.toString('utf8', start));

  // The skeleton has each split array replaced by a placeholder string no request text can hold.
  const marker = `\u0000migrans-split-array-${Math.random().toString(36).slice(2)}-`;
  let skeleton = '';
  let at = start;
  split.forEach((a, k) => {
    skeleton += `${bytes.toString('utf8', at, a.start)}${JSON.stringify(`${marker}${k}`)}`;
    at = a.end + 1;
  });
  skeleton += bytes.toString('utf8', at);
  const root = parseJson(skeleton) as Record<string, unknown>;

  const arrays: unknown[][] = [];
  for (const a of split) {
    const out: unknown[] = [];
    const bounds = [a.start, ...a.cuts, a.end];
    for (let b = 0; b + 1 < bounds.length; b++) {
      await yieldToEventLoop();
      const part = parseJson(`[${bytes.toString('utf8', bounds[b]! + 1, bounds[b + 1]!)}]`) as unknown[];
      for (let i = 0; i < part.length; i++) out.push(part[i]);
    }
    arrays.push(out);
  }
  for (const key of Object.keys(root)) {
    const v = root[key];
    if (typeof v === 'string' && v.startsWith(marker)) root[key] = arrays[Number(v.slice(marker.length))];
  }
  return root;
}
