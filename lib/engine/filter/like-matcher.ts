/**
 * Matches a Milvus `like` pattern without a backtracking regular expression, in O(value × pattern) time
 * at worst: a RegExp such as `^.*a.*a.*a.*b$` backtracks exponentially and once froze the server for
 * minutes on one 100-character value. The pattern is cut at its `%` wildcards into segments of fixed
 * length (literal text and `_`, one code point each); the first segment is anchored at the start, the
 * last at the end, and each middle segment is taken at its leftmost match, which is always right for
 * fixed-length segments separated by `%` (any later match leaves less room for what follows).
 */

/** One piece of a segment: literal text, or `_` repeated `count` times. */
type Piece = { lit: string } | { any: number };

/** A run of pieces between two `%`. */
type Segment = Piece[];

/** Whether the UTF-16 unit at `i` starts a surrogate pair (then `_` consumes two units). */
function pairAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) return false;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff;
}

/** Whether the unit before `end` ends a surrogate pair. */
function pairBefore(s: string, end: number): boolean {
  return end >= 2 && pairAt(s, end - 2);
}

/** Matches `seg` starting at `pos`; the end position, or -1. */
function matchForward(s: string, pos: number, seg: Segment): number {
  for (const p of seg) {
    if ('lit' in p) {
      if (!s.startsWith(p.lit, pos)) return -1;
      pos += p.lit.length;
    } else {
      for (let k = 0; k < p.any; k++) {
        if (pos >= s.length) return -1;
        pos += pairAt(s, pos) ? 2 : 1;
      }
    }
  }
  return pos;
}

/** Matches `seg` ending at `end`; its start position, or -1. */
function matchBackward(s: string, end: number, seg: Segment): number {
  for (let i = seg.length - 1; i >= 0; i--) {
    const p = seg[i]!;
    if ('lit' in p) {
      if (end < p.lit.length || !s.endsWith(p.lit, end)) return -1;
      end -= p.lit.length;
    } else {
      for (let k = 0; k < p.any; k++) {
        if (end <= 0) return -1;
        end -= pairBefore(s, end) ? 2 : 1;
      }
    }
  }
  return end;
}

/** The end of the leftmost match of `seg` starting at or after `from` and ending at or before `limit`, or -1. */
function findLeftmost(s: string, from: number, limit: number, seg: Segment): number {
  const first = seg[0]!;
  let p = from;
  while (p <= limit) {
    if ('lit' in first) {
      // Jump to the next place the leading literal occurs (indexOf is linear, not backtracking).
      p = s.indexOf(first.lit, p);
      if (p < 0 || p > limit) return -1;
    }
    const end = matchForward(s, p, seg);
    if (end >= 0 && end <= limit) return end;
    if (p >= s.length) return -1;
    p += pairAt(s, p) ? 2 : 1;
  }
  return -1;
}

/**
 * Compiles the pieces of a pattern (literals, `_` and `%`, escapes already resolved) into a test of
 * whole strings.
 */
export function compileWildcard(parts: readonly ({ lit: string } | '%' | '_')[]): (s: string) => boolean {
  const segments: Segment[] = [[]];
  for (const part of parts) {
    const seg = segments[segments.length - 1]!;
    if (part === '%') segments.push([]);
    else if (part === '_') {
      const last = seg[seg.length - 1];
      if (last && 'any' in last) last.any++;
      else seg.push({ any: 1 });
    } else seg.push({ lit: part.lit });
  }
  const head = segments[0]!;
  if (segments.length === 1) return (s) => matchForward(s, 0, head) === s.length;
  const tail = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((seg) => seg.length > 0);
  return (s) => {
    let pos = matchForward(s, 0, head);
    if (pos < 0) return false;
    const limit = matchBackward(s, s.length, tail);
    if (limit < pos) return false;
    for (const seg of middle) {
      pos = findLeftmost(s, pos, limit, seg);
      if (pos < 0) return false;
    }
    return true;
  };
}
