/**
 * Binding of exprParams: turns the `{name}` template values an application passes next to a filter
 * into typed constants, the way Milvus types JSON template values (whole numbers are Int64, other
 * numbers Double, lossless-json numbers keep big integers exact). Separate from the checker because it
 * reads request data, not the syntax tree, and has its own limits and messages.
 */
import type { Span } from './filter-ast.ts';
import { INT64_MAX, INT64_MIN, type Const, type FilterErrors } from './filter-plan.ts';
import { MAX_TERM_COUNT } from '../request-limits.ts';

/** A `{name}` template value from exprParams, typed the way Milvus types JSON template values. */
export function templateConst(errs: FilterErrors, params: Record<string, unknown> | undefined, name: string, node: Span): Const {
  if (!params || !Object.hasOwn(params, name)) {
    errs.fail(node, `the value of expression template variable name {${name}} is not found; pass it in exprParams`);
  }
  return templateValue(errs, params[name], name, node);
}

/** Types one exprParams value: booleans, strings, integers (Int64), other numbers (Double), LosslessNumbers and lists of those. */
export function templateValue(errs: FilterErrors, v: unknown, name: string, node: Span): Const {
  switch (typeof v) {
    case 'boolean':
      return { t: 'bool', v };
    case 'string':
      return { t: 'string', v };
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) errs.fail(node, `template variable {${name}} = ${v} is out of the Int64 range`);
      return { t: 'int', v };
    case 'number':
      if (!Number.isFinite(v)) errs.fail(node, `template variable {${name}} is not a finite number: ${v}`);
      // Whole numbers are Int64 (json.Number.Int64() succeeds), everything else Double.
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? { t: 'int', v: BigInt(v) } : { t: 'float', v };
    case 'object': {
      if (Array.isArray(v)) {
        if (v.length > MAX_TERM_COUNT) errs.fail(node, `template variable {${name}} is a list of ${v.length} values; the limit is ${MAX_TERM_COUNT}: split the request`);
        return { t: 'list', v: v.map((x) => templateValue(errs, x, name, node)) };
      }
      // lossless-json's LosslessNumber keeps the digits of big integers as a string.
      const lossless = v as { isLosslessNumber?: unknown; value?: unknown } | null;
      if (lossless && lossless.isLosslessNumber === true && typeof lossless.value === 'string') {
        const digits = lossless.value;
        if (/^-?[0-9]+$/.test(digits)) {
          const big = BigInt(digits);
          if (big >= INT64_MIN && big <= INT64_MAX) return { t: 'int', v: big };
        }
        return { t: 'float', v: Number(digits) };
      }
      break;
    }
    default:
      break;
  }
  const shown = v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
  errs.fail(node, `template variable {${name}} has an unsupported value of type ${shown}; use a bool, number, string or list`);
}
