/**
 * Request JSON parsing that keeps Int64 exact: integers beyond ±2^53 become `bigint`, every other
 * number a `number`. Bodies without such integers (almost all) take the native JSON.parse fast path;
 * the others go through lossless-json (about 2× slower). Duplicate keys keep the last value, as Go does.
 */
import { parse as parseLossless } from 'lossless-json';

/**
 * An integer literal long enough to exceed 2^53 (16+ digits), delimited like a JSON value. It may
 * also match inside a string; that only costs the slower exact parse.
 */
const LONG_INTEGER = /(?:^|[[:,\s])-?\d{16,}(?=\s*[,\]}]|\s*$)/;
const INTEGER = /^-?\d+$/;

function parseNumber(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !INTEGER.test(text)) return n;
  return BigInt(text);
}

function keepLast(info: { newValue: unknown }): unknown {
  return info.newValue;
}

/** Parses JSON text; throws SyntaxError with a position on malformed input. */
export function parseJson(text: string): unknown {
  if (!LONG_INTEGER.test(text)) return JSON.parse(text);
  return parseLossless(text, null, { parseNumber, onDuplicateKey: keepLast });
}
