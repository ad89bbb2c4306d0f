/**
 * JSON serialization for responses: `bigint` is written exactly as digits (never through a double),
 * Float32Array and float32-typed values in their shortest round-trip form (as Go prints float32, so
 * `0.1` stays `0.1` instead of `0.10000000149011612`), non-finite numbers as null, and undefined
 * object members skipped.
 */

/** Shortest decimal text that reads back as the same float32 (Go's `FormatFloat(f, 'g', -1, 32)` digits). */
export function formatFloat32(value: number): string {
  const f = Math.fround(value);
  if (f - f !== 0) return 'null';
  if (f === 0) return '0';
  // Nine significant digits always round-trip a float32; try shorter forms first.
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
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = formatFloat32(values[i]!);
  return `[${parts.join(',')}]`;
}

/** A JSON string literal. */
export function writeString(value: string): string {
  return JSON.stringify(value);
}

/** Serializes any JSON-like value (bigint exact, Float32Array as float32 numbers). */
export function writeJson(value: unknown): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'number': return formatNumber(value);
    case 'bigint': return value.toString();
    case 'boolean': return value ? 'true' : 'false';
    case 'undefined': case 'function': case 'symbol': return 'null';
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
