/**
 * Compiles a Milvus boolean filter expression into a row predicate: parse (filter-grammar.ts), type-check
 * against the collection schema following Milvus 2.5's plan visitor (internal/parser/planparserv2), then
 * bind to one segment's columns as a tree of closures that does no parsing, lookups or allocation per row.
 *
 * Null semantics are three-valued where it costs nothing: every leaf is TRUE, FALSE or UNKNOWN (a null or
 * missing value, or a JSON value of the wrong type), and UNKNOWN never matches. `not` is pushed down to
 * the leaves at compile time (De Morgan), where "negated leaf" means "value known and leaf false", so
 * `not (a > 1)` and `a != 1` both exclude rows where `a` is null, while `is null` / `is not null` are exact.
 *
 * This module is the entry point and the compiled-filter cache; the stages live beside it:
 * filter-plan.ts (the typed plan), filter-check.ts with filter-resolve.ts, filter-constants.ts and
 * filter-templates.ts (type checking), filter-optimize.ts (rewriting), filter-bind*.ts and
 * filter-runtime.ts (closures and JSON path access).
 */
import type { RowSource } from '../schema/row-source.ts';
import type { CollectionSchema, PrimaryKey } from '../schema/types.ts';
import { Binder, bindPred } from './filter-bind.ts';
import { Checker } from './filter-check.ts';
import { filterError, parseFilter } from './filter-grammar.ts';
import { fieldsOf, optimize, primaryKeysOf } from './filter-optimize.ts';
import type { Pred } from './filter-plan.ts';
import { TRUE } from './filter-runtime.ts';
import { MAX_FILTER_LENGTH, MAX_JSON_DEPTH, MAX_TEMPLATE_VALUES, jsonDepth, jsonSize } from '../request-limits.ts';

/** A filter compiled against one collection schema, reusable across segments. */
export interface CompiledFilter {
  readonly expression: string;
  /**
   * Identity of what the filter selects: the expression and its template values. Two compilations
   * with the same key (against the same schema) pass the same rows, so per-segment results can be
   * cached under it.
   */
  readonly key: string;
  /** Binds to one segment's columns; the returned predicate is called per row offset. */
  bind(src: RowSource): (offset: number) => boolean;
  /** Set when the whole filter is primary-key equality: pk == c, pk in [..], or an `or` of those (lets get/delete use the PK index instead of a scan). Values typed like the pk (bigint for Int64, string for VarChar). */
  readonly primaryKeys?: PrimaryKey[];
  /** Field names the filter reads (for loading only needed columns); `$meta` stands for the dynamic field. */
  readonly fields: string[];
}

/**
 * Parses and type-checks a Milvus filter against `schema`, substituting `{name}` templates from
 * `exprParams`. An empty or blank expression matches every row. Throws InvalidParameterError (1100)
 * (`failed to create query plan: ...: invalid parameter`) on any syntax or type error.
 */
export function compileFilter(expression: string, schema: CollectionSchema, exprParams?: Record<string, unknown>): CompiledFilter {
  checkLimits(expression, exprParams);
  const key = filterKey(expression, exprParams);
  let cache = compiledFilters.get(schema);
  if (!cache) compiledFilters.set(schema, (cache = new Map()));
  const hit = cache.get(key);
  if (hit) {
    // Most recently used last: the first entry is the one evicted.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const compiled = compileUncached(expression, key, schema, exprParams);
  cache.set(key, compiled);
  if (cache.size > COMPILED_FILTER_CACHE) cache.delete(cache.keys().next().value!);
  return compiled;
}

/** Refuses, before any parsing, a filter or template values too large to handle without stalling the server. */
function checkLimits(expression: string, exprParams: Record<string, unknown> | undefined): void {
  if (expression.length > MAX_FILTER_LENGTH) {
    throw filterError(
      expression,
      `the expression is ${expression.length} characters long; the limit is ${MAX_FILTER_LENGTH}: ` +
        'send long value lists as template values, e.g. "id in {ids}" with "exprParams": {"ids": [...]}',
    );
  }
  if (!exprParams) return;
  const size = jsonSize(exprParams, MAX_TEMPLATE_VALUES);
  if (size > MAX_TEMPLATE_VALUES) {
    throw filterError(expression, `exprParams hold more than ${MAX_TEMPLATE_VALUES} values; the limit is ${MAX_TEMPLATE_VALUES}: split the request`);
  }
  for (const [name, value] of Object.entries(exprParams)) {
    if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw filterError(expression, `template value {${name}} nests more than ${MAX_JSON_DEPTH} levels deep; the limit is ${MAX_JSON_DEPTH}`);
    }
  }
}

/**
 * Compiled filters per schema, most recently used last. Applications repeat a handful of filter
 * shapes; parsing one with the PEG parser and type-checking it costs tens of microseconds, a
 * noticeable share of a filtered search.
 */
const compiledFilters = new WeakMap<CollectionSchema, Map<string, CompiledFilter>>();
const COMPILED_FILTER_CACHE = 256;

/** The cache key of an expression with its template values (key order as given). */
function filterKey(expression: string, exprParams: Record<string, unknown> | undefined): string {
  if (!exprParams || Object.keys(exprParams).length === 0) return expression;
  return `${expression}\u0000${valueKey(exprParams)}`;
}

/** JSON-like text of a template value that tells every type apart (bigint 1n from the string "1n" too). */
function valueKey(v: unknown): string {
  switch (typeof v) {
    case 'bigint':
      return `${v}n`;
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'u';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}:${valueKey(x)}`)
      .join(',')}}`;
  return String(v);
}

function compileUncached(expression: string, key: string, schema: CollectionSchema, exprParams?: Record<string, unknown>): CompiledFilter {
  if (expression.trim() === '') return { expression, key, fields: [], bind: () => TRUE };
  const ast = parseFilter(expression);
  let pred: Pred;
  try {
    pred = optimize(new Checker(expression, schema, exprParams).predicate(ast));
  } catch (err) {
    if (err instanceof RangeError) throw filterError(expression, 'expression is nested too deeply; flatten parentheses or split the filter');
    throw err;
  }
  const primaryKeys = primaryKeysOf(pred);
  const fields = [...fieldsOf(pred, new Set())];
  return {
    expression,
    key,
    fields,
    bind: (src: RowSource) => bindPred(pred, new Binder(src)),
    ...(primaryKeys ? { primaryKeys } : {}),
  };
}
