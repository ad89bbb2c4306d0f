/**
 * The Milvus 2.5 filter expression grammar (internal/parser/planparserv2/Plan.g4, text in
 * filter-grammar-source.ts) and its parser. The parser is generated ahead of time into
 * filter-parser.generated.ts: compiling the grammar with `peggy.generate` at module load, plus loading
 * peggy itself, cost about 250 ms of every process start (server, Lambda cold start).
 *
 * Precedence (tightest first) follows Plan.g4's alternative order: primaries (literals, fields, `{tmpl}`,
 * parens, lists, `exists`, function forms, `is [not] null`), `like`, `**`, unary `+ - ~ not`, `* / %`,
 * `+ -`, `<< >>`, `[not] in`, ranges / relational, equality, `& ^ |` (one level: all three are rejected
 * later anyway), `and`, `or`.
 */
import { parse as parseGenerated } from './filter-parser.generated.ts';
import { invalidParameter, type InvalidParameterError } from '../errors.ts';
import type { Expr, Span } from './filter-ast.ts';

interface PeggySyntaxError {
  message: string;
  location?: { start: { offset: number } };
  expected?: Array<{ type: string; text?: string; description?: string }> | null;
  found?: string | null;
}

/** Longest expression echoed back in an error message (a 10k-element `in` list would flood logs). */
const MAX_ECHO = 200;

/**
 * Builds the 1100 error Milvus returns for a bad filter:
 * `failed to create query plan: cannot parse expression: <expr>, error: <reason>: invalid parameter`.
 * With a span, the reason gets the 1-based line/column and the offending source text appended.
 */
export function filterError(expression: string, reason: string, span?: Span): InvalidParameterError {
  let where = '';
  if (span) {
    const before = expression.slice(0, span.start);
    const line = before.split('\n').length;
    const column = span.start - before.lastIndexOf('\n');
    let token = expression.slice(span.start, Math.max(span.end, span.start)).trim();
    if (token.length > 60) token = `${token.slice(0, 57)}...`;
    const pos = line > 1 ? `line ${line}, column ${column}` : `column ${column}`;
    where = token ? ` (at ${pos}: \`${token}\`)` : ` (at ${pos})`;
  }
  const shown = expression.length > MAX_ECHO ? `${expression.slice(0, MAX_ECHO)}... (${expression.length} chars)` : expression;
  return invalidParameter(`failed to create query plan: cannot parse expression: ${shown}, error: ${reason}${where}`);
}

/** The token at `offset` for syntax errors: a word, a quoted string, or one character. */
function tokenAt(expression: string, offset: number): string {
  const m = /^(?:[A-Za-z_$][A-Za-z0-9_]*|[0-9][0-9A-Za-z_.]*|"[^"]*"?|'[^']*'?|\S)/.exec(expression.slice(offset));
  return m ? m[0] : '';
}

/** Parses a filter expression into its syntax tree; throws an InvalidParameterError (1100) on a syntax error. */
export function parseFilter(expression: string): Expr {
  try {
    return parseGenerated(expression, {}) as Expr;
  } catch (err) {
    if (err instanceof RangeError) {
      throw filterError(expression, 'expression is nested too deeply; flatten parentheses or split the filter');
    }
    const e = err as PeggySyntaxError;
    if (!e || typeof e.message !== 'string' || !e.location) throw err;
    // The failure offset can sit on whitespace in front of the offending token.
    let offset = e.location.start.offset;
    while (offset < expression.length && /\s/.test(expression[offset]!)) offset++;
    // Errors raised by grammar actions (bad escapes, unquoted JSON keys) carry their own message.
    if (!e.expected) throw filterError(expression, e.message, { start: offset, end: offset + tokenAt(expression, offset).length });
    const token = tokenAt(expression, offset);
    const found = token ? `unexpected \`${token}\`` : 'unexpected end of expression';
    // Named rules and literal tokens read well; raw character classes do not.
    const expected = [
      ...new Set(
        e.expected
          .filter((x) => x.type === 'other' || x.type === 'literal' || x.type === 'end')
          .map((x) => (x.type === 'end' ? 'end of expression' : x.type === 'literal' ? `\`${x.text}\`` : (x.description ?? '')))
          .filter((x) => x !== '' && x !== 'whitespace'),
      ),
    ];
    const hint = expected.includes('number')
      ? '; expected an operand (field, constant, list, template or parenthesized expression)'
      : expected.length > 0 && expected.length <= 8
        ? `; expected ${expected.join(', ')}`
        : '';
    throw filterError(expression, `syntax error: ${found}${hint}`, { start: offset, end: offset + token.length });
  }
}
