/**
 * JSON serialization for responses: `bigint` is written exactly as digits (never through a double),
 * Float32Array and float32-typed values in their shortest round-trip form (as Go prints float32, so
 * `0.1` stays `0.1` instead of `0.10000000149011612`), non-finite numbers as null, and undefined
 * object members skipped.
 */

/** Exact powers of ten as doubles (10^0 … 10^22 are exactly representable). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Longest text formatFloat32 produces ('-1.17549435e-38'), with room to spare. */
const MAX_FLOAT32_CHARS = 24;
/** Reused output buffers: one value (formatFloat32), a whole array (writeFloat32Array, grown on demand). */
const single = Buffer.allocUnsafe(MAX_FLOAT32_CHARS);
let scratch = Buffer.allocUnsafe(4096);
/** Digits of one value, least significant first. */
const DIGITS = new Uint8Array(16);

/**
 * Shortest decimal text that reads back as the same float32 (Go's `FormatFloat(f, 'g', -1, 32)`
 * digits), written the way JS prints numbers. Profiles of `entities/get` showed the former
 * `toPrecision` loop as the top cost of encoding a vector (about 1 µs a value), so the usual case
 * rounds to a p-digit integer with exact powers of ten (correctly rounded, like parsing the
 * p-digit text) and prints that integer's digits; `toPrecision` remains for magnitudes where the
 * powers are not exact.
 */
export function formatFloat32(value: number): string {
  return single.toString('latin1', 0, writeFloat32Bytes(single, 0, value));
}

/** Result of shortestDigits: the value is digitsM × 10^-digitsScale (module scratch: no allocation per value). */
let digitsM = 0;
let digitsScale = 0;

/**
 * The shortest digits (6…9 significant, as the toPrecision reference) of a positive finite float32
 * `a` that read back as `a`, into digitsM / digitsScale; false where the powers of ten involved
 * are not exact (the caller falls back to toPrecision).
 */
function shortestDigits(a: number): boolean {
  let e = Math.floor(Math.log10(a));
  // log10 can be off by one next to powers of ten.
  if (e + 1 <= 22 && e + 1 >= 0 && a >= POW10[e + 1]) e++;
  else if (e >= 0 && e <= 22 && a < POW10[e]) e--;
  // Nine significant digits always round-trip a float32; the shortest p that does is wanted.
  // Most values need 8 or 9, so start at 8 and walk down while shorter forms still round-trip.
  let best = -1;
  let bestScale = 0;
  for (let p = 8; p >= 1; p--) {
    const m = roundTo(a, p - 1 - e);
    if (m < 0) return false;
    if (Math.fround(scaleBack(m, p - 1 - e)) !== a) break;
    best = m;
    bestScale = p - 1 - e;
  }
  if (best < 0) {
    bestScale = 8 - e;
    best = roundTo(a, bestScale);
    if (best < 0 || Math.fround(scaleBack(best, bestScale)) !== a) return false;
  }
  digitsM = best;
  digitsScale = bestScale;
  return true;
}

/** round(a × 10^s) when 10^|s| is exact, else -1. */
function roundTo(a: number, s: number): number {
  if (s >= 0 && s <= 22) return Math.round(a * POW10[s]);
  if (s < 0 && s >= -22) return Math.round(a / POW10[-s]);
  return -1;
}

/** m × 10^-s, correctly rounded (|s| ≤ 22 and m < 2^53). */
function scaleBack(m: number, s: number): number {
  return s >= 0 ? m / POW10[s] : m * POW10[-s];
}

/** formatFloat32 through toPrecision: any magnitude, about 10× slower. */
function formatFloat32Slow(f: number): string {
  for (let p = 6; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return String(d);
  }
  return String(f);
}

/** A JSON number for a double (null when not finite). */
export function formatNumber(value: number): string {
  return value - value === 0 ? String(value) : 'null';
}

/** A JSON array of float32 values. */
export function writeFloat32Array(values: ArrayLike<number>): string {
  const n = values.length;
  if (n === 0) return '[]';
  // Written as bytes into a reused buffer and turned into one string: a vector used to cost ~6
  // small strings per value, and the garbage of a 128-d `get` made the server scavenge every ~300
  // requests, 3 ms each: the requests that paid for it were the p99.
  let buf = scratch;
  if (buf.length < n * MAX_FLOAT32_CHARS + 2) buf = scratch = Buffer.allocUnsafe(n * MAX_FLOAT32_CHARS + 2);
  let pos = 0;
  buf[pos++] = 0x5b; // [
  for (let i = 0; i < n; i++) {
    if (i > 0) buf[pos++] = 0x2c; // ,
    pos = writeFloat32Bytes(buf, pos, values[i]!);
  }
  buf[pos++] = 0x5d; // ]
  return buf.toString('latin1', 0, pos);
}

/**
 * Writes formatFloat32(value) as ASCII at `pos`; returns the end position. The digits are written
 * the way JS's Number#toString places them (plain up to 21 integer digits, `0.000…` down to 1e-6,
 * exponent form beyond).
 */
function writeFloat32Bytes(buf: Buffer, pos: number, value: number): number {
  const f = Math.fround(value);
  if (f - f !== 0) return pos + buf.write('null', pos, 'latin1');
  if (f === 0) {
    buf[pos] = 0x30;
    return pos + 1;
  }
  if (!shortestDigits(f < 0 ? -f : f)) return pos + buf.write(formatFloat32Slow(f), pos, 'latin1');
  if (f < 0) buf[pos++] = 0x2d; // -
  // Digits of m, most significant first, trailing zeros dropped.
  let m = digitsM;
  let total = 0;
  while (m > 0) {
    const q = Math.floor(m / 10);
    DIGITS[total++] = 0x30 + (m - q * 10);
    m = q;
  }
  let lo = 0; // DIGITS holds them least significant first
  while (lo < total - 1 && DIGITS[lo] === 0x30) lo++;
  const k = total - lo; // significant digits kept
  const point = total - digitsScale; // value = 0.D × 10^point
  if (k <= point && point <= 21) {
    for (let i = total - 1; i >= lo; i--) buf[pos++] = DIGITS[i];
    for (let i = k; i < point; i++) buf[pos++] = 0x30;
  } else if (0 < point && point <= 21) {
    for (let i = total - 1, j = 0; i >= lo; i--, j++) {
      if (j === point) buf[pos++] = 0x2e; // .
      buf[pos++] = DIGITS[i];
    }
  } else if (-6 < point && point <= 0) {
    buf[pos++] = 0x30;
    buf[pos++] = 0x2e;
    for (let i = 0; i < -point; i++) buf[pos++] = 0x30;
    for (let i = total - 1; i >= lo; i--) buf[pos++] = DIGITS[i];
  } else {
    buf[pos++] = DIGITS[total - 1];
    if (k > 1) {
      buf[pos++] = 0x2e;
      for (let i = total - 2; i >= lo; i--) buf[pos++] = DIGITS[i];
    }
    pos += buf.write(`e${point - 1 < 0 ? '-' : '+'}${Math.abs(point - 1)}`, pos, 'latin1');
  }
  return pos;
}

/** A JSON string literal. */
export function writeString(value: string): string {
  return JSON.stringify(value);
}

/** Serializes any JSON-like value (bigint exact, Float32Array as float32 numbers). */
export function writeJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return formatNumber(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return 'null';
  }
  if (value === null) return 'null';
  if (value instanceof Float32Array) return writeFloat32Array(value);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const arr = value as ArrayLike<unknown>;
    const parts = new Array<string>(arr.length);
    for (let i = 0; i < arr.length; i++) parts[i] = writeJson(arr[i]);
    return `[${parts.join(',')}]`;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${writeJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
