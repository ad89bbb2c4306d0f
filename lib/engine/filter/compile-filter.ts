/**
 * Compiles a Milvus boolean filter expression into a row predicate: parse (filter-grammar.ts), type-check
 * against the collection schema following Milvus 2.5's plan visitor (internal/parser/planparserv2), then
 * bind to one segment's columns as a tree of closures that does no parsing, lookups or allocation per row.
 *
 * Null semantics are three-valued where it costs nothing: every leaf is TRUE, FALSE or UNKNOWN (a null or
 * missing value, or a JSON value of the wrong type), and UNKNOWN never matches. `not` is pushed down to
 * the leaves at compile time (De Morgan), where "negated leaf" means "value known and leaf false", so
 * `not (a > 1)` and `a != 1` both exclude rows where `a` is null, while `is null` / `is not null` are exact.
 */
import type { RowSource } from '../schema/row-source.ts';
import { comparePrimaryKeys } from '../segment-scope.ts';
import type { CollectionSchema, DataType, ElementType, FieldSchema, PrimaryKey } from '../schema/types.ts';
import type { Expr, FieldRef, Span } from './filter-ast.ts';
import { filterError, parseFilter } from './filter-grammar.ts';
import { compileWildcard } from './like-matcher.ts';
import { MAX_FILTER_LENGTH, MAX_JSON_DEPTH, MAX_LIKE_PATTERN_LENGTH, MAX_TEMPLATE_VALUES, MAX_TERM_COUNT, jsonDepth, jsonSize } from '../request-limits.ts';

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

// ---------------------------------------------------------------------------------------------------------
// Typed plan
// ---------------------------------------------------------------------------------------------------------

/** How values of a column are represented and compared. Int8–Int32 share `int32` (JS numbers). */
type Kind = 'bool' | 'int32' | 'int64' | 'float32' | 'double' | 'string' | 'json' | 'array';

/** One compiled `[...]` step of a JSON/array path. */
interface PathStep {
  key: string;
  /** Array index the key denotes, or -1 (JSON paths are strings in Milvus, so `[0]` and `["0"]` agree). */
  index: number;
  /** The key names an Object.prototype member, so plain property access needs an own-property check. */
  guarded: boolean;
}

/** A resolved field reference: a schema field, an element of an Array field, or a path into JSON/`$meta`. */
interface ColumnRef {
  /** Identity of the value read (root + path), used to share accessors and merge predicates. */
  key: string;
  /** The reference as written, for messages. */
  text: string;
  /** Schema field name, or `$meta` for the dynamic field. */
  root: string;
  dynamic: boolean;
  field?: FieldSchema;
  steps: PathStep[];
  kind: Kind;
  /** Whole Array fields: kind of the elements. */
  elementKind?: Kind;
  /** Type name for messages (`Int64`, `JSON`, `Array[VarChar]`, `VarChar (element of Array)`). */
  typeName: string;
}

/** A constant after folding. Integers stay bigint so Int64 values survive exactly. */
type Const = { t: 'bool'; v: boolean } | { t: 'int'; v: bigint } | { t: 'float'; v: number } | { t: 'string'; v: string } | { t: 'list'; v: Const[] };

type ArithOp = '+' | '-' | '*' | '/' | '%';
type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
type ContainsMode = 'one' | 'all' | 'any';

/**
 * What type-checking a sub-expression yields. `bare` marks a literal or template as written (Milvus's
 * "node dependent"): such a constant cannot be a whole filter, while a folded one (`1 == 1`) can.
 */
type Operand =
  | { k: 'const'; c: Const; bare: boolean; template: boolean; node: Expr }
  | { k: 'column'; ref: ColumnRef; node: Expr }
  | { k: 'arith'; ref: ColumnRef; op: ArithOp; operand: Const; node: Expr }
  | { k: 'length'; ref: ColumnRef; node: Expr }
  | { k: 'pred'; p: Pred; node: Expr };

/** A LIKE pattern reduced to the cheapest test that implements it. */
type LikeMatcher = { kind: 'eq' | 'prefix' | 'suffix' | 'contains'; lit: string } | { kind: 'any' } | { kind: 'wild'; test: (s: string) => boolean };

/**
 * The boolean plan. Constants in leaves are already cast to the column's runtime representation
 * (bigint for Int64, Math.fround-ed numbers for Float, JS values with bigint integers for JSON).
 * Leaves without an `op` carry `neg` ("value known and test false") once `not` is pushed down.
 */
type Pred =
  | { k: 'const'; v: boolean }
  | { k: 'and' | 'or'; items: Pred[] }
  | { k: 'cmp'; ref: ColumnRef; op: CmpOp; v: unknown }
  | { k: 'cmpCols'; left: ColumnRef; right: ColumnRef; op: CmpOp }
  | { k: 'range'; ref: ColumnRef; lo: unknown; hi: unknown; loInc: boolean; hiInc: boolean; neg: boolean }
  | { k: 'in'; ref: ColumnRef; values: unknown[]; neg: boolean }
  | { k: 'like'; ref: ColumnRef; m: LikeMatcher; neg: boolean }
  | { k: 'arith'; ref: ColumnRef; aop: ArithOp; operand: number | bigint; op: CmpOp; v: number | bigint }
  | { k: 'length'; ref: ColumnRef; op: CmpOp; v: number }
  | { k: 'null'; ref: ColumnRef; isNull: boolean }
  | { k: 'contains'; ref: ColumnRef; mode: ContainsMode; values: unknown[]; neg: boolean };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Stands in for a contains value no element can equal (e.g. 1.5 against Int64 elements). */
const NO_MATCH = Symbol('no-match');

const FLIP: Record<CmpOp, CmpOp> = { '==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
const MIRROR: Record<CmpOp, CmpOp> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const ARITH_NAME: Record<ArithOp, string> = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '%': 'modulo' };
const BIT_OPS: Partial<Record<string, string>> = { '&': 'BitAnd', '|': 'BitOr', '^': 'BitXor' };
const CONTAINS_NAME: Record<ContainsMode, string> = { one: 'Contains', all: 'ContainsAll', any: 'ContainsAny' };

function kindOfType(t: DataType | ElementType | undefined): Kind | undefined {
  switch (t) {
    case 'Bool':
      return 'bool';
    case 'Int8':
    case 'Int16':
    case 'Int32':
      return 'int32';
    case 'Int64':
      return 'int64';
    case 'Float':
      return 'float32';
    case 'Double':
      return 'double';
    case 'VarChar':
      return 'string';
    case 'JSON':
      return 'json';
    case 'Array':
      return 'array';
    default:
      return undefined;
  }
}

const isIntKind = (k: Kind): boolean => k === 'int32' || k === 'int64';
const isNumKind = (k: Kind): boolean => k === 'int32' || k === 'int64' || k === 'float32' || k === 'double';
const isNumConst = (c: Const): c is { t: 'int'; v: bigint } | { t: 'float'; v: number } => c.t === 'int' || c.t === 'float';

/** Whether a constant converts to a typed (non-JSON, non-Array) column kind. */
function castable(kind: Kind, c: Const): boolean {
  if (isIntKind(kind)) return c.t === 'int';
  if (isNumKind(kind)) return isNumConst(c);
  return c.t === (kind === 'bool' ? 'bool' : 'string');
}

/** Milvus's name for a constant's type, as used in its messages. */
function constType(c: Const): string {
  switch (c.t) {
    case 'bool':
      return 'Bool';
    case 'int':
      return 'Int64';
    case 'float':
      return 'Double';
    case 'string':
      return 'VarChar';
    case 'list':
      return 'Array';
  }
}

function formatConst(c: Const): string {
  switch (c.t) {
    case 'string':
      return JSON.stringify(c.v);
    case 'list':
      return `[${c.v.map(formatConst).join(', ')}]`;
    case 'float':
      return Number.isInteger(c.v) ? c.v.toFixed(1) : String(c.v);
    default:
      return String(c.v);
  }
}

/** A constant as a JSON-comparable runtime value (integers as bigint, lists as arrays). */
function jsonValue(c: Const): unknown {
  return c.t === 'list' ? c.v.map(jsonValue) : c.v;
}

/** Canonical Set key for a JSON scalar: safe integers as numbers, larger integers as bigint, so 1 and 1n agree. */
function normKey(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v) ? BigInt(v) : v;
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v;
  return v;
}

/** Equality of JSON values: numbers compare numerically across number/bigint, arrays element-wise. */
function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  // Loose == between a number and a bigint compares their mathematical values exactly.
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) return (a as number) == (b as number);
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEquals(a[i], b[i])) return false;
    return true;
  }
  return false;
}

/** Compiles a LIKE pattern: `%` any run, `_` one character, `\` escapes the next character. */
function compileLike(pattern: string): LikeMatcher {
  type Part = { lit: string } | '%' | '_';
  const parts: Part[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit) parts.push({ lit });
    lit = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) lit += pattern[++i];
    else if (ch === '%' || ch === '_') {
      flush();
      if (!(ch === '%' && parts[parts.length - 1] === '%')) parts.push(ch);
    } else lit += ch;
  }
  flush();
  const litAt = (i: number): string | undefined => {
    const p = parts[i];
    return typeof p === 'object' ? p.lit : undefined;
  };
  if (parts.length === 0) return { kind: 'eq', lit: '' };
  if (!parts.includes('_')) {
    if (parts.length === 1) return parts[0] === '%' ? { kind: 'any' } : { kind: 'eq', lit: litAt(0)! };
    if (parts.length === 2 && parts[1] === '%' && litAt(0) !== undefined) return { kind: 'prefix', lit: litAt(0)! };
    if (parts.length === 2 && parts[0] === '%' && litAt(1) !== undefined) return { kind: 'suffix', lit: litAt(1)! };
    if (parts.length === 3 && parts[0] === '%' && parts[2] === '%' && litAt(1) !== undefined) return { kind: 'contains', lit: litAt(1)! };
  }
  // `_` matches any one code point, a newline too (Milvus matches characters, not bytes).
  return { kind: 'wild', test: compileWildcard(parts) };
}

// ---------------------------------------------------------------------------------------------------------
// Type checking (AST → Pred)
// ---------------------------------------------------------------------------------------------------------

/** Walks the syntax tree, resolving fields against the schema and enforcing Milvus's typing rules. */
class Checker {
  private readonly fieldsByName = new Map<string, FieldSchema>();
  private readonly bareRefs = new Map<string, ColumnRef>();

  constructor(
    private readonly expression: string,
    private readonly schema: CollectionSchema,
    private readonly params: Record<string, unknown> | undefined,
  ) {
    for (const f of schema.fields) this.fieldsByName.set(f.name, f);
  }

  fail(node: Span, reason: string): never {
    throw filterError(this.expression, reason, node);
  }

  text(node: Span): string {
    return this.expression.slice(node.start, node.end).trim();
  }

  /** Type-checks the whole filter and returns its predicate. */
  predicate(root: Expr): Pred {
    const o = this.check(root);
    if (o.k === 'pred') return o.p;
    if (o.k === 'const' && o.c.t === 'bool' && !o.bare) return { k: 'const', v: o.c.v };
    let type: string;
    let hint = '';
    switch (o.k) {
      case 'const':
        type = constType(o.c);
        hint = '; a filter cannot be a bare constant';
        break;
      case 'column':
        type = o.ref.typeName;
        hint = o.ref.kind === 'bool' ? `; compare it explicitly: ${this.text(o.node)} == true` : '; compare it with a value, e.g. a > 1';
        break;
      default:
        type = 'Int64';
        hint = '; compare it with a value';
    }
    this.fail(root, `predicate is not a boolean expression: ${this.text(root)}, data type: ${type}${hint}`);
  }

  check(e: Expr): Operand {
    switch (e.kind) {
      case 'int':
        if (e.value < INT64_MIN || e.value > INT64_MAX) {
          this.fail(e, `integer literal ${e.value} is out of the Int64 range [${INT64_MIN}, ${INT64_MAX}]`);
        }
        return { k: 'const', c: { t: 'int', v: e.value }, bare: true, template: false, node: e };
      case 'float':
        if (!Number.isFinite(e.value)) this.fail(e, `floating-point literal ${this.text(e)} is out of the Double range`);
        return { k: 'const', c: { t: 'float', v: e.value }, bare: true, template: false, node: e };
      case 'bool':
        return { k: 'const', c: { t: 'bool', v: e.value }, bare: true, template: false, node: e };
      case 'string':
        return { k: 'const', c: { t: 'string', v: e.value }, bare: true, template: false, node: e };
      case 'list': {
        if (e.items.length > MAX_TERM_COUNT) {
          this.fail(e, `the list has ${e.items.length} values; the limit is ${MAX_TERM_COUNT}: split the request`);
        }
        const items: Const[] = [];
        let template = false;
        for (const item of e.items) {
          // Plain literals skip the Operand wrapper: long `id in [...]` lists are the hot compile path.
          if (item.kind === 'int' && item.value >= INT64_MIN && item.value <= INT64_MAX) {
            items.push({ t: 'int', v: item.value });
            continue;
          }
          if (item.kind === 'string') {
            items.push({ t: 'string', v: item.value });
            continue;
          }
          const o = this.check(item);
          if (o.k !== 'const') this.fail(item, `array element type must be generic value, but got: ${this.text(item)}; list elements must be constants`);
          items.push(o.c);
          template ||= o.template;
        }
        return { k: 'const', c: { t: 'list', v: items }, bare: true, template, node: e };
      }
      case 'template':
        return { k: 'const', c: this.template(e.name, e), bare: true, template: true, node: e };
      case 'field':
        return { k: 'column', ref: this.resolve(e), node: e };
      case 'exists': {
        const o = this.check(e.operand);
        if (o.k !== 'column') this.fail(e.operand, `exists operations are only supported on single fields now, got: ${this.text(e.operand)}`);
        if (o.ref.kind !== 'json') this.fail(e.operand, `exists operations are only supported on json field, got: ${o.ref.typeName} (${o.ref.text})`);
        if (o.ref.steps.length === 0) this.fail(e.operand, `exists operations are only supported on json key, e.g. exists ${o.ref.text}["key"]`);
        return { k: 'pred', p: { k: 'null', ref: o.ref, isNull: false }, node: e };
      }
      case 'isNull': {
        // On a JSON path Milvus rewrites `is null` to `not exists`; both read "value null or missing".
        const ref = this.resolve(e.target);
        return { k: 'pred', p: { k: 'null', ref, isNull: !e.negated }, node: e };
      }
      case 'like': {
        const o = this.check(e.operand);
        if (o.k !== 'column') this.fail(e.operand, `like operation on complicated expr is unsupported: ${this.text(e.operand)}; the left side must be a field`);
        if (o.ref.kind !== 'string' && o.ref.kind !== 'json') {
          this.fail(e, `like operation on non-string or no-json field is unsupported: field ${o.ref.text} is ${o.ref.typeName}`);
        }
        if (e.pattern.length > MAX_LIKE_PATTERN_LENGTH) {
          this.fail(e, `like pattern is ${e.pattern.length} characters long; the limit is ${MAX_LIKE_PATTERN_LENGTH}: shorten the pattern`);
        }
        return { k: 'pred', p: { k: 'like', ref: o.ref, m: compileLike(e.pattern), neg: false }, node: e };
      }
      case 'unary':
        return this.unary(e);
      case 'binary': {
        // Milvus rejects shifts and bit operations before looking at the operands.
        if (e.op === '<<' || e.op === '>>') this.fail(e, `shift is not supported: ${this.text(e)}`);
        const bitOp = BIT_OPS[e.op];
        if (bitOp) this.fail(e, `${bitOp} is not supported: ${this.text(e)}`);
        const l = this.check(e.left);
        const r = this.check(e.right);
        switch (e.op) {
          case '**':
            return this.power(e, l, r);
          case '+':
          case '-':
          case '*':
          case '/':
          case '%':
            return this.arith(e, e.op, l, r);
          default:
            return this.compare(e, e.op as CmpOp, l, r);
        }
      }
      case 'logical': {
        const ops = e.items.map((i) => this.check(i));
        if (ops.every((o) => o.k === 'const')) {
          let acc = e.op === 'and';
          for (const o of ops) {
            const c = (o as { c: Const }).c;
            if (c.t !== 'bool') this.fail(o.node, `${e.op} can only apply on boolean, received ${formatConst(c)}`);
            acc = e.op === 'and' ? acc && c.v : acc || c.v;
          }
          return { k: 'const', c: { t: 'bool', v: acc }, bare: false, template: false, node: e };
        }
        const items: Pred[] = [];
        for (const o of ops) {
          if (o.k !== 'pred') {
            const hint = o.k === 'column' && o.ref.kind === 'bool' ? ` (write \`${this.text(o.node)} == true\` for a Bool field)` : '';
            this.fail(o.node, `'${e.op}' can only be used between boolean expressions, received \`${this.text(o.node)}\`${hint}`);
          }
          items.push(o.p);
        }
        return { k: 'pred', p: { k: e.op, items }, node: e };
      }
      case 'in':
        return { k: 'pred', p: this.inList(e.operand, e.list, e.negated), node: e };
      case 'range':
        return { k: 'pred', p: this.range(e), node: e };
      case 'contains':
        return { k: 'pred', p: this.contains(e), node: e };
      case 'arrayLength': {
        const ref = this.resolve(e.target);
        if (ref.kind !== 'array' && ref.kind !== 'json') {
          this.fail(e, `array_length operation are only supported on json or array fields now, got: ${ref.text} (${ref.typeName})`);
        }
        return { k: 'length', ref, node: e };
      }
      case 'call':
        return { k: 'pred', p: this.call(e.name, e.args, e), node: e };
      case 'unsupported':
        if (e.name.startsWith('st_')) this.fail(e, `${e.name} is not supported: Migrans has no Geometry fields or GIS functions`);
        this.fail(e, `${e.name} is not supported: Migrans has no text-match (analyzer) index; use like "%word%" instead`);
    }
  }

  /** Resolves `name`, `$meta`, `name[..]` and `$meta[..]`; unknown names go to `$meta` when dynamic fields are on. */
  resolve(node: FieldRef): ColumnRef {
    // Bare names repeat a lot in generated filters (`id == 1 or id == 2 ...`): resolve each once.
    if (node.keys.length === 0) {
      let ref = this.bareRefs.get(node.name);
      if (!ref) {
        ref = this.resolveUncached(node);
        this.bareRefs.set(node.name, ref);
      }
      return ref;
    }
    return this.resolveUncached(node);
  }

  private resolveUncached(node: FieldRef): ColumnRef {
    const { name, keys } = node;
    const text = this.text(node);
    const steps: PathStep[] = [];
    for (const k of keys) {
      if ('key' in k) {
        if (k.key === '') this.fail(node, `invalid identifier: ${text}; JSON keys must not be empty`);
        steps.push({ key: k.key, index: /^(0|[1-9][0-9]*)$/.test(k.key) ? Number(k.key) : -1, guarded: k.key in Object.prototype });
      } else {
        steps.push({ key: String(k.index), index: k.index, guarded: false });
      }
    }
    const dynamicRef = (allSteps: PathStep[]): ColumnRef => ({
      key: `$meta${allSteps.map((s) => `[${JSON.stringify(s.key)}]`).join('')}`,
      text,
      root: '$meta',
      dynamic: true,
      steps: allSteps,
      kind: 'json',
      typeName: 'JSON',
    });
    if (name === '$meta') {
      if (!this.schema.enableDynamicField) this.fail(node, 'field $meta not exist: the collection has dynamic fields disabled');
      return dynamicRef(steps);
    }
    const field = this.fieldsByName.get(name);
    if (!field) {
      if (!this.schema.enableDynamicField) {
        this.fail(node, `field ${name} not exist; the collection has no field "${name}" and dynamic fields are disabled`);
      }
      return dynamicRef([{ key: name, index: -1, guarded: name in Object.prototype }, ...steps]);
    }
    const kind = kindOfType(field.dataType);
    if (!kind) this.fail(node, `filter on ${field.dataType} field ${name} is not supported; vector fields cannot be filtered`);
    const key = `${name}${steps.map((s) => `[${JSON.stringify(s.key)}]`).join('')}`;
    if (steps.length === 0) {
      const elementKind = kind === 'array' ? kindOfType(field.elementType) : undefined;
      const typeName = kind === 'array' ? `Array[${field.elementType ?? '?'}]` : field.dataType;
      return { key, text, root: name, dynamic: false, field, steps, kind, typeName, ...(elementKind ? { elementKind } : {}) };
    }
    if (kind === 'json') return { key, text, root: name, dynamic: false, field, steps, kind, typeName: 'JSON' };
    if (kind === 'array') {
      const first = keys[0]!;
      if (!('index' in first)) this.fail(node, `can only access array field with integer index, received ${text}`);
      if (keys.length > 1) this.fail(node, `an Array field takes a single integer index, received ${text}`);
      const elementKind = kindOfType(field.elementType);
      if (!elementKind) this.fail(node, `Array field ${name} has no usable element type (${field.elementType ?? 'none'})`);
      return { key, text, root: name, dynamic: false, field, steps, kind: elementKind, typeName: `${field.elementType} (element of Array)` };
    }
    this.fail(node, `${field.dataType} data type not supported accessed with []: field ${name} is neither JSON nor Array`);
  }

  /** A `{name}` template value from exprParams, typed the way Milvus types JSON template values. */
  template(name: string, node: Span): Const {
    const params = this.params;
    if (!params || !Object.hasOwn(params, name)) {
      this.fail(node, `the value of expression template variable name {${name}} is not found; pass it in exprParams`);
    }
    return this.templateValue(params[name], name, node);
  }

  private templateValue(v: unknown, name: string, node: Span): Const {
    switch (typeof v) {
      case 'boolean':
        return { t: 'bool', v };
      case 'string':
        return { t: 'string', v };
      case 'bigint':
        if (v < INT64_MIN || v > INT64_MAX) this.fail(node, `template variable {${name}} = ${v} is out of the Int64 range`);
        return { t: 'int', v };
      case 'number':
        if (!Number.isFinite(v)) this.fail(node, `template variable {${name}} is not a finite number: ${v}`);
        // Whole numbers are Int64 (json.Number.Int64() succeeds), everything else Double.
        return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? { t: 'int', v: BigInt(v) } : { t: 'float', v };
      case 'object': {
        if (Array.isArray(v)) {
          if (v.length > MAX_TERM_COUNT) this.fail(node, `template variable {${name}} is a list of ${v.length} values; the limit is ${MAX_TERM_COUNT}: split the request`);
          return { t: 'list', v: v.map((x) => this.templateValue(x, name, node)) };
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
    this.fail(node, `template variable {${name}} has an unsupported value of type ${shown}; use a bool, number, string or list`);
  }

  private unary(e: Extract<Expr, { kind: 'unary' }>): Operand {
    const o = this.check(e.operand);
    if (e.op === '~') this.fail(e, `bitwise not (~) is not supported: ${this.text(e)}`);
    if (e.op === '+') {
      if (o.k === 'column') return o;
      if (o.k === 'const' && isNumConst(o.c)) return { ...o, bare: false, node: e };
      this.fail(e, `unary plus can only be applied to a number or a field, received ${this.text(e.operand)}`);
    }
    if (e.op === '-') {
      if (o.k !== 'const') this.fail(e, `unary minus is only supported on constants, received ${this.text(e)}; move it to the constant side (e.g. a < -1)`);
      if (o.c.t === 'int') return { ...o, c: { t: 'int', v: BigInt.asIntN(64, -o.c.v) }, bare: false, node: e };
      if (o.c.t === 'float') return { ...o, c: { t: 'float', v: -o.c.v }, bare: false, node: e };
      this.fail(e, `unary minus can only be applied to a number, received ${formatConst(o.c)}`);
    }
    // not
    if (o.k === 'const') {
      if (o.c.t !== 'bool') this.fail(e, `not can only apply on boolean, received ${formatConst(o.c)}`);
      return { k: 'const', c: { t: 'bool', v: !o.c.v }, bare: false, template: o.template, node: e };
    }
    if (o.k === 'pred') return { k: 'pred', p: negate(o.p), node: e };
    this.fail(e, `not op can only be applied on boolean expression, received \`${this.text(e.operand)}\`; not binds tighter than comparisons, so add parentheses: not (a > 1)`);
  }

  private power(e: Expr, l: Operand, r: Operand): Operand {
    if (l.k !== 'const' || r.k !== 'const' || !isNumConst(l.c) || !isNumConst(r.c)) {
      this.fail(e, `power can only apply on constants: ${this.text(e)}`);
    }
    if (l.template || r.template) this.fail(e, 'placeholder was not supported between two constants with operator: **');
    return { k: 'const', c: { t: 'float', v: Math.pow(Number(l.c.v), Number(r.c.v)) }, bare: false, template: false, node: e };
  }

  private foldArith(e: Expr, op: ArithOp, a: Const, b: Const): Const {
    if (!isNumConst(a) || !isNumConst(b)) this.fail(e, `${ARITH_NAME[op]} can only apply on numbers, received ${formatConst(a)} ${op} ${formatConst(b)}`);
    if (op === '%') {
      if (a.t !== 'int' || b.t !== 'int') this.fail(e, 'modulo can only apply on integer');
      if (b.v === 0n) this.fail(e, 'cannot modulo by zero');
      return { t: 'int', v: a.v % b.v };
    }
    if (op === '/' && Number(b.v) === 0) this.fail(e, 'cannot divide by zero');
    if (a.t === 'int' && b.t === 'int') {
      // Int64 arithmetic wraps like Go's.
      const v = op === '+' ? a.v + b.v : op === '-' ? a.v - b.v : op === '*' ? a.v * b.v : a.v / b.v;
      return { t: 'int', v: BigInt.asIntN(64, v) };
    }
    const x = Number(a.v);
    const y = Number(b.v);
    return { t: 'float', v: op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : x / y };
  }

  /** `field op const` (or `const + field`, `const * field`); anything else Milvus rejects. */
  private arith(e: Expr, op: ArithOp, l: Operand, r: Operand): Operand {
    if (l.k === 'const' && r.k === 'const') {
      if (l.template || r.template) this.fail(e, `placeholder was not supported between two constants with operator: ${op}`);
      return { k: 'const', c: this.foldArith(e, op, l.c, r.c), bare: false, template: false, node: e };
    }
    let col: ColumnRef;
    let c: Const;
    if (l.k === 'column' && r.k === 'const') {
      col = l.ref;
      c = r.c;
    } else if (l.k === 'const' && r.k === 'column') {
      if (op !== '+' && op !== '*') this.fail(e, `only \`field ${op} constant\` is supported, not \`constant ${op} field\`: ${this.text(e)}`);
      col = r.ref;
      c = l.c;
    } else if (l.k === 'column' && r.k === 'column') {
      this.fail(e, `not supported to do arithmetic operations between multiple fields: ${this.text(e)}`);
    } else if (l.k === 'pred' || r.k === 'pred') {
      this.fail(e, `arithmetic cannot be applied to a boolean expression: ${this.text(e)}`);
    } else {
      this.fail(e, `complicated arithmetic operations are not supported: ${this.text(e)}; only \`field op constant\` compared with a constant is`);
    }
    if (col.kind === 'array') this.fail(e, `can not do arithmetic on a whole Array field ${col.text}; index an element, e.g. ${col.text}[0]`);
    if ((!isNumKind(col.kind) && col.kind !== 'json') || !isNumConst(c)) {
      this.fail(e, `'${ARITH_NAME[op]}' cannot perform arithmetic between ${col.typeName} field and ${constType(c)}: ${this.text(e)}`);
    }
    if (isIntKind(col.kind) && c.t === 'float') {
      this.fail(e, `'${ARITH_NAME[op]}' cannot perform arithmetic between ${col.typeName} field and Double: ${this.text(e)}; use an integer operand`);
    }
    if (op === '%' && (c.t !== 'int' || !(isIntKind(col.kind) || col.kind === 'json'))) {
      this.fail(e, `modulo can only apply on integer types: ${this.text(e)}`);
    }
    if ((op === '/' || op === '%') && Number(c.v) === 0) this.fail(e, `division or modulus by zero: ${this.text(e)}`);
    return { k: 'arith', ref: col, op, operand: c, node: e };
  }

  private foldCompare(e: Expr, op: CmpOp, a: Const, b: Const): boolean {
    let x: unknown;
    let y: unknown;
    if (isNumConst(a) && isNumConst(b)) {
      x = a.v;
      y = b.v;
    } else if (a.t === 'string' && b.t === 'string') {
      x = a.v;
      y = b.v;
    } else if (a.t === 'bool' && b.t === 'bool' && (op === '==' || op === '!=')) {
      x = a.v;
      y = b.v;
    } else {
      this.fail(e, `comparison operations cannot be applied to two incompatible operands: ${this.text(e)}`);
    }
    // Operands are both numeric (number/bigint, compared exactly by JS), both strings or both booleans.
    const p = x as number;
    const q = y as number;
    switch (op) {
      case '==':
        return p == q;
      case '!=':
        return p != q;
      case '<':
        return p < q;
      case '<=':
        return p <= q;
      case '>':
        return p > q;
      case '>=':
        return p >= q;
    }
  }

  private compare(e: Expr, op: CmpOp, l: Operand, r: Operand): Operand {
    if (l.k === 'const' && r.k === 'const') {
      if (l.template || r.template) this.fail(e, `placeholder was not supported between two constants with operator: ${op}`);
      return { k: 'const', c: { t: 'bool', v: this.foldCompare(e, op, l.c, r.c) }, bare: false, template: false, node: e };
    }
    if (l.k === 'const') {
      [l, r] = [r, l];
      op = MIRROR[op];
    }
    if (r.k !== 'const') {
      if (l.k === 'column' && r.k === 'column') return { k: 'pred', p: this.compareColumns(e, op, l.ref, r.ref), node: e };
      if (l.k === 'pred' || r.k === 'pred') this.fail(e, `comparison operators cannot take a boolean expression as operand: ${this.text(e)}`);
      if (l.k === 'arith' || r.k === 'arith')
        this.fail(e, `not supported to do arithmetic operations between multiple fields: ${this.text(e)}; compare \`field op constant\` with a constant`);
      this.fail(e, `only comparison between two fields or between a field and a constant is supported: ${this.text(e)}`);
    }
    const c = r.c;
    switch (l.k) {
      case 'column':
        return { k: 'pred', p: this.compareConst(e, op, l.ref, c), node: e };
      case 'arith':
        return { k: 'pred', p: this.compareArith(e, op, l, c), node: e };
      case 'length':
        if (c.t !== 'int') this.fail(e, `array_length can only be compared with an integer, received ${formatConst(c)}`);
        return { k: 'pred', p: { k: 'length', ref: l.ref, op, v: Number(c.v) }, node: e };
      default:
        this.fail(e, `a boolean expression cannot be compared with a constant: ${this.text(e)}; use the condition itself`);
    }
  }

  /** Casts a constant to a typed column's runtime representation, as Milvus's castValue does. */
  private cast(node: Span, kind: Kind, typeName: string, fieldText: string, c: Const): unknown {
    switch (kind) {
      case 'bool':
        if (c.t === 'bool') return c.v;
        break;
      case 'int32':
        if (c.t === 'int') return Number(c.v);
        break;
      case 'int64':
        if (c.t === 'int') return c.v;
        break;
      case 'float32':
        if (isNumConst(c)) return Math.fround(Number(c.v));
        break;
      case 'double':
        if (isNumConst(c)) return Number(c.v);
        break;
      case 'string':
        if (c.t === 'string') return c.v;
        break;
      default:
        return jsonValue(c);
    }
    if (isIntKind(kind) && c.t === 'float') {
      this.fail(node, `cannot cast value ${formatConst(c)} to ${typeName}: ${fieldText} is an integer field; use an integer constant`);
    }
    this.fail(node, `comparisons between ${typeName} and ${constType(c)} are not supported: field ${fieldText} is ${typeName}, constant ${formatConst(c)} is ${constType(c)}`);
  }

  private compareConst(e: Expr, op: CmpOp, ref: ColumnRef, c: Const): Pred {
    if (ref.kind === 'array') {
      this.fail(e, `can not comparisons array fields directly: ${ref.text} is ${ref.typeName}; index an element (${ref.text}[0]) or use array_contains`);
    }
    const relational = op !== '==' && op !== '!=';
    if (ref.kind === 'json') {
      if (relational && (c.t === 'list' || c.t === 'bool')) {
        this.fail(e, `operator ${op} cannot compare ${ref.text} with ${formatConst(c)}; only == and != apply to ${c.t === 'list' ? 'lists' : 'booleans'}`);
      }
      return { k: 'cmp', ref, op, v: jsonValue(c) };
    }
    if (ref.kind === 'bool' && relational) this.fail(e, `operator ${op} is not supported on Bool field ${ref.text}; use == or !=`);
    return { k: 'cmp', ref, op, v: this.cast(e, ref.kind, ref.typeName, ref.text, c) };
  }

  private compareColumns(e: Expr, op: CmpOp, a: ColumnRef, b: ColumnRef): Pred {
    for (const ref of [a, b]) {
      if (ref.kind === 'json') this.fail(e, `two column comparison with JSON type is not supported: ${this.text(e)}`);
      if (ref.kind === 'array') this.fail(e, `can not comparisons array fields directly: ${ref.text} is ${ref.typeName}`);
    }
    if (!(isNumKind(a.kind) && isNumKind(b.kind)) && a.kind !== b.kind) {
      this.fail(e, `comparisons between ${a.typeName} and ${b.typeName} are not supported: ${this.text(e)}`);
    }
    if (a.kind === 'bool' && op !== '==' && op !== '!=') this.fail(e, `operator ${op} is not supported on Bool fields; use == or !=`);
    return { k: 'cmpCols', left: a, right: b, op };
  }

  private compareArith(e: Expr, op: CmpOp, a: Extract<Operand, { k: 'arith' }>, c: Const): Pred {
    const { ref, operand } = a;
    const integral = isIntKind(ref.kind) || (ref.kind === 'json' && operand.t === 'int');
    if (!isNumConst(c)) this.fail(e, `comparisons between ${integral ? 'Int64' : 'Double'} and ${constType(c)} are not supported: ${this.text(e)}`);
    if (integral && c.t !== 'int') {
      this.fail(e, `cannot cast value ${formatConst(c)} to Int64: \`${this.text(a.node)}\` is an integer expression; compare it with an integer`);
    }
    const num = operand as { t: 'int'; v: bigint } | { t: 'float'; v: number };
    return integral ? { k: 'arith', ref, aop: a.op, operand: BigInt(num.v), op, v: c.v as bigint } : { k: 'arith', ref, aop: a.op, operand: Number(num.v), op, v: Number(c.v) };
  }

  private inList(operandNode: Expr, listNode: Expr, negated: boolean): Pred {
    const o = this.check(operandNode);
    if (o.k === 'const') this.fail(operandNode, `'term' can only be used on non-const expression, but got: ${this.text(operandNode)}`);
    if (o.k !== 'column') this.fail(operandNode, `'term' can only be used on single field, but got: ${this.text(operandNode)}`);
    const l = this.check(listNode);
    if (l.k !== 'const' || l.c.t !== 'list') this.fail(listNode, `the right-hand side of 'in' must be a list, but got: ${this.text(listNode)}`);
    const ref = o.ref;
    if (ref.kind === 'array') this.fail(operandNode, `in is not supported on a whole Array field (${ref.text}); use array_contains_any`);
    const values = l.c.v.map((item) => {
      if (ref.kind === 'json') return jsonValue(item);
      if (!castable(ref.kind, item)) this.fail(listNode, `value '${formatConst(item)}' in list cannot be casted to ${ref.typeName} (field ${ref.text})`);
      return this.cast(listNode, ref.kind, ref.typeName, ref.text, item);
    });
    if (values.length === 1 && !(ref.kind === 'json' && Array.isArray(values[0]))) {
      return { k: 'cmp', ref, op: negated ? '!=' : '==', v: values[0] };
    }
    return { k: 'in', ref, values, neg: negated };
  }

  private range(e: Extract<Expr, { kind: 'range' }>): Pred {
    const ref = this.resolve(e.target);
    if (ref.kind === 'array') this.fail(e, `can not comparisons array fields directly: ${ref.text} is ${ref.typeName}`);
    const lo = this.check(e.lower);
    const hi = this.check(e.upper);
    if (lo.k !== 'const') this.fail(e.lower, `lowerbound cannot be a non-const expression: ${this.text(e.lower)}`);
    if (hi.k !== 'const') this.fail(e.upper, `upperbound cannot be a non-const expression: ${this.text(e.upper)}`);
    if (ref.kind === 'bool') this.fail(e, `invalid range operations on boolean expr: ${this.text(e)}`);
    let loV: unknown;
    let hiV: unknown;
    if (ref.kind === 'json') {
      const bothNum = isNumConst(lo.c) && isNumConst(hi.c);
      const bothStr = lo.c.t === 'string' && hi.c.t === 'string';
      if (!bothNum && !bothStr) {
        this.fail(e, `invalid range operations: bounds of a range on ${ref.text} must both be numbers or both be strings, received ${formatConst(lo.c)} and ${formatConst(hi.c)}`);
      }
      loV = jsonValue(lo.c);
      hiV = jsonValue(hi.c);
    } else {
      loV = this.cast(e.lower, ref.kind, ref.typeName, ref.text, lo.c);
      hiV = this.cast(e.upper, ref.kind, ref.typeName, ref.text, hi.c);
    }
    if (!lo.template && !hi.template) {
      const empty = e.lowerInclusive && e.upperInclusive ? (loV as number) > (hiV as number) : (loV as number) >= (hiV as number);
      if (empty) this.fail(e, `invalid range: lowerbound is greater than upperbound: ${this.text(e)}`);
    }
    return { k: 'range', ref, lo: loV, hi: hiV, loInc: e.lowerInclusive, hiInc: e.upperInclusive, neg: false };
  }

  private contains(e: Extract<Expr, { kind: 'contains' }>): Pred {
    const label = CONTAINS_NAME[e.mode];
    const t = this.check(e.target);
    if (t.k !== 'column' || (t.ref.kind !== 'json' && t.ref.kind !== 'array')) {
      this.fail(e.target, `${e.fn} operation are only supported on json or array fields now, got: ${this.text(e.target)}`);
    }
    const v = this.check(e.value);
    if (v.k !== 'const') this.fail(e.value, `${e.fn} operation are only supported explicitly specified element, got: ${this.text(e.value)}`);
    let items: Const[];
    if (e.mode === 'one') {
      items = [v.c];
    } else {
      if (v.c.t !== 'list') this.fail(e.value, `${label} operation element must be an array, received ${formatConst(v.c)}`);
      items = v.c.v;
    }
    const ref = t.ref;
    if (ref.kind === 'json') return { k: 'contains', ref, mode: e.mode, values: items.map(jsonValue), neg: false };
    const ek = ref.elementKind!;
    const elementType = ref.field?.elementType ?? '?';
    const values = items.map((item) => {
      if (e.mode === 'one') return this.cast(e.value, ek, elementType, ref.text, item);
      const comparable = isNumKind(ek) ? isNumConst(item) : item.t === (ek === 'bool' ? 'bool' : 'string');
      if (!comparable) {
        this.fail(e.value, `${label} operation can't compare between array element type: ${elementType} and ${constType(item)}`);
      }
      return elementValue(ek, item);
    });
    return { k: 'contains', ref, mode: e.mode, values, neg: false };
  }

  /** segcore's registered functions: `empty(varchar)` and `starts_with(varchar, "prefix")`. */
  private call(name: string, args: Expr[], e: Expr): Pred {
    const fn = name.toLowerCase();
    const stringArg = (node: Expr): ColumnRef => {
      const o = this.check(node);
      if (o.k !== 'column' || (o.ref.kind !== 'string' && o.ref.kind !== 'json')) {
        this.fail(node, `${fn}() expects a VarChar field as its first argument, received ${this.text(node)}`);
      }
      return o.ref;
    };
    if (fn === 'empty') {
      if (args.length !== 1) this.fail(e, `empty() takes 1 argument, received ${args.length}`);
      return { k: 'cmp', ref: stringArg(args[0]!), op: '==', v: '' };
    }
    if (fn === 'starts_with') {
      if (args.length !== 2) this.fail(e, `starts_with() takes 2 arguments, received ${args.length}`);
      const ref = stringArg(args[0]!);
      const p = this.check(args[1]!);
      if (p.k !== 'const' || p.c.t !== 'string') this.fail(args[1]!, `starts_with() expects a string constant as its second argument, received ${this.text(args[1]!)}`);
      return { k: 'like', ref, m: { kind: 'prefix', lit: p.c.v }, neg: false };
    }
    this.fail(e, `function ${name}() is not supported; available functions: empty(field), starts_with(field, "prefix")`);
  }
}

/** A contains_all/any value normalized to an Array field's element representation (NO_MATCH if none can equal it). */
function elementValue(kind: Kind, c: Const): unknown {
  const n = Number(c.v);
  switch (kind) {
    case 'int64':
      if (c.t === 'int') return c.v;
      return Number.isInteger(n) ? BigInt(n) : NO_MATCH;
    case 'int32':
      return Number.isInteger(n) ? n : NO_MATCH;
    case 'float32':
      return Math.fround(n);
    case 'double':
      return n;
    default:
      return c.v;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Plan rewriting
// ---------------------------------------------------------------------------------------------------------

/** `not p`, pushed to the leaves (De Morgan); a negated leaf matches only rows whose value is known. */
function negate(p: Pred): Pred {
  switch (p.k) {
    case 'const':
      return { k: 'const', v: !p.v };
    case 'and':
      return { k: 'or', items: p.items.map(negate) };
    case 'or':
      return { k: 'and', items: p.items.map(negate) };
    case 'cmp':
    case 'cmpCols':
    case 'arith':
    case 'length':
      return { ...p, op: FLIP[p.op] };
    case 'null':
      return { ...p, isNull: !p.isNull };
    default:
      return { ...p, neg: !p.neg };
  }
}

/** Rough per-row cost, to evaluate cheap conjuncts/disjuncts first. */
function cost(p: Pred): number {
  switch (p.k) {
    case 'const':
      return 0;
    case 'null':
      return 1;
    case 'cmp':
      return p.ref.kind === 'json' ? 3 : 1;
    case 'cmpCols':
    case 'range':
      return 2;
    case 'in':
      return p.ref.kind === 'json' ? 4 : 2;
    case 'length':
    case 'arith':
      return 3;
    case 'like':
      return p.m.kind === 'wild' ? 8 : 3;
    case 'contains':
      return 6;
    case 'and':
    case 'or':
      return Math.min(
        20,
        p.items.reduce((s, i) => s + cost(i), 0),
      );
  }
}

/** Merges `f == a or f == b or f in [..]` into one `in` (and `!=`/`not in` under `and`) for typed columns. */
function mergeMembership(op: 'and' | 'or', items: Pred[]): Pred[] {
  const wantNeg = op === 'and';
  type Member = Extract<Pred, { k: 'cmp' | 'in' }>;
  const isMember = (p: Pred): p is Member =>
    ((p.k === 'cmp' && p.op === (wantNeg ? '!=' : '==')) || (p.k === 'in' && p.neg === wantNeg)) && p.ref.kind !== 'json' && p.ref.kind !== 'array';
  const groups = new Map<string, Member[]>();
  for (const p of items) {
    if (!isMember(p)) continue;
    const list = groups.get(p.ref.key) ?? [];
    list.push(p);
    groups.set(p.ref.key, list);
  }
  const out: Pred[] = [];
  for (const p of items) {
    const group = isMember(p) ? groups.get(p.ref.key) : undefined;
    if (!isMember(p) || !group || group.length < 2) {
      out.push(p);
      continue;
    }
    if (group[0] !== p) continue; // merged into the group's first member
    const values = group.flatMap((m) => (m.k === 'cmp' ? [m.v] : m.values));
    out.push({ k: 'in', ref: p.ref, values, neg: wantNeg });
  }
  return out;
}

/** Flattens nested and/or, folds constants, merges membership tests and orders children by cost. */
function optimize(p: Pred): Pred {
  if (p.k !== 'and' && p.k !== 'or') return p;
  const items: Pred[] = [];
  for (const raw of p.items) {
    const c = optimize(raw);
    if (c.k === p.k) items.push(...c.items);
    else if (c.k === 'const') {
      if (c.v === (p.k === 'or')) return c; // absorbing element
    } else items.push(c);
  }
  const merged = mergeMembership(p.k, items);
  if (merged.length === 0) return { k: 'const', v: p.k === 'and' };
  if (merged.length === 1) return merged[0]!;
  merged.sort((a, b) => cost(a) - cost(b));
  return { k: p.k, items: merged };
}

function isPrimaryKeyRef(ref: ColumnRef): boolean {
  return !ref.dynamic && ref.steps.length === 0 && ref.field?.isPrimary === true;
}

/** The primary keys when the filter is exactly pk equality / pk in [..] / an `or` of those. */
function primaryKeysOf(p: Pred): PrimaryKey[] | undefined {
  const keys: PrimaryKey[] = [];
  const visit = (q: Pred): boolean => {
    if (q.k === 'or') return q.items.every(visit);
    if (q.k === 'cmp' && q.op === '==' && isPrimaryKeyRef(q.ref)) {
      keys.push(q.v as PrimaryKey);
      return true;
    }
    if (q.k === 'in' && !q.neg && isPrimaryKeyRef(q.ref)) {
      for (const v of q.values) keys.push(v as PrimaryKey);
      return true;
    }
    return false;
  };
  return visit(p) ? [...new Set(keys)] : undefined;
}

function fieldsOf(p: Pred, out: Set<string>): Set<string> {
  switch (p.k) {
    case 'const':
      break;
    case 'and':
    case 'or':
      for (const i of p.items) fieldsOf(i, out);
      break;
    case 'cmpCols':
      out.add(p.left.root);
      out.add(p.right.root);
      break;
    default:
      out.add(p.ref.root);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Binding (Pred → closures over one segment's columns)
// ---------------------------------------------------------------------------------------------------------

type Getter = (offset: number) => unknown;
type Predicate = (offset: number) => boolean;

const TRUE: Predicate = () => true;
const FALSE: Predicate = () => false;

/** One step into a JSON value or array; undefined when the path does not exist. */
function step(v: unknown, s: PathStep): unknown {
  if (typeof v !== 'object' || v === null) return undefined;
  if (Array.isArray(v)) return s.index >= 0 ? v[s.index] : undefined;
  if (s.guarded && !Object.hasOwn(v, s.key)) return undefined;
  return (v as Record<string, unknown>)[s.key];
}

function walkPath(root: Getter, steps: PathStep[]): Getter {
  switch (steps.length) {
    case 0:
      return root;
    case 1: {
      const s0 = steps[0]!;
      return (o) => step(root(o), s0);
    }
    case 2: {
      const s0 = steps[0]!;
      const s1 = steps[1]!;
      return (o) => step(step(root(o), s0), s1);
    }
    default:
      return (o) => {
        let v = root(o);
        for (let i = 0; i < steps.length && v !== undefined; i++) v = step(v, steps[i]!);
        return v;
      };
  }
}

/** Resolves column accessors once per bind and shares them between leaves reading the same value. */
class Binder {
  private readonly roots = new Map<string, Getter>();
  private readonly getters = new Map<string, Getter>();

  constructor(private readonly src: RowSource) {}

  getter(ref: ColumnRef): Getter {
    let g = this.getters.get(ref.key);
    if (!g) {
      let root = this.roots.get(ref.root);
      if (!root) {
        root = ref.dynamic ? this.src.dynamic() : this.src.column(ref.root);
        this.roots.set(ref.root, root);
      }
      g = walkPath(root, ref.steps);
      this.getters.set(ref.key, g);
    }
    return g;
  }
}

/** Numeric column vs constant; `c` may be a bigint (Int64): JS compares number/bigint exactly with < and ==. */
function bindNumCmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  const c = value as number;
  switch (op) {
    case '==':
      return (o) => {
        const v = g(o) as number;
        return v != null && v == c;
      };
    case '!=':
      return (o) => {
        const v = g(o) as number;
        return v != null && v != c;
      };
    case '<':
      return (o) => {
        const v = g(o) as number;
        return v != null && v < c;
      };
    case '<=':
      return (o) => {
        const v = g(o) as number;
        return v != null && v <= c;
      };
    case '>':
      return (o) => {
        const v = g(o) as number;
        return v != null && v > c;
      };
    case '>=':
      return (o) => {
        const v = g(o) as number;
        return v != null && v >= c;
      };
  }
}

/** Float column vs constant, both rounded to float32 as Milvus casts the constant to the column type. */
function bindFloat32Cmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  const c = value as number;
  switch (op) {
    case '==':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) === c;
      };
    case '!=':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) !== c;
      };
    case '<':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) < c;
      };
    case '<=':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) <= c;
      };
    case '>':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) > c;
      };
    case '>=':
      return (o) => {
        const v = g(o) as number;
        return v != null && Math.fround(v) >= c;
      };
  }
}

/**
 * VarChar/Bool column vs constant of the same type (strict equality: never string/number coercion).
 * Strings order by UTF-8 bytes, as Milvus compares them and query pages are ordered.
 */
function bindStrictCmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  const c = value as string;
  switch (op) {
    case '==':
      return (o) => g(o) === c;
    case '!=':
      return (o) => {
        const v = g(o);
        return v != null && v !== c;
      };
    case '<':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) < 0;
      };
    case '<=':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) <= 0;
      };
    case '>':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) > 0;
      };
    case '>=':
      return (o) => {
        const v = g(o) as string;
        return v != null && comparePrimaryKeys(v, c) >= 0;
      };
  }
}

/** JSON value vs constant: a value of another type (or missing) makes the comparison false, `!=` included. */
function bindJsonCmp(g: Getter, op: CmpOp, value: unknown): Predicate {
  if (typeof value === 'number' || typeof value === 'bigint') {
    const c = value as number;
    const num = (v: unknown): v is number => typeof v === 'number' || typeof v === 'bigint';
    switch (op) {
      case '==':
        return (o) => {
          const v = g(o);
          return num(v) && v == c;
        };
      case '!=':
        return (o) => {
          const v = g(o);
          return num(v) && v != c;
        };
      case '<':
        return (o) => {
          const v = g(o);
          return num(v) && v < c;
        };
      case '<=':
        return (o) => {
          const v = g(o);
          return num(v) && v <= c;
        };
      case '>':
        return (o) => {
          const v = g(o);
          return num(v) && v > c;
        };
      case '>=':
        return (o) => {
          const v = g(o);
          return num(v) && v >= c;
        };
    }
  }
  if (typeof value === 'string') {
    const c = value;
    switch (op) {
      case '==':
        return (o) => g(o) === c;
      case '!=':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v !== c;
        };
      case '<':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v < c;
        };
      case '<=':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v <= c;
        };
      case '>':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v > c;
        };
      case '>=':
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v >= c;
        };
    }
  }
  if (typeof value === 'boolean') {
    return op === '=='
      ? (o) => g(o) === value
      : (o) => {
          const v = g(o);
          return typeof v === 'boolean' && v !== value;
        };
  }
  return op === '=='
    ? (o) => {
        const v = g(o);
        return Array.isArray(v) && jsonEquals(v, value);
      }
    : (o) => {
        const v = g(o);
        return Array.isArray(v) && !jsonEquals(v, value);
      };
}

/** Comparison of two already-known values (number/bigint mixed, or same-typed strings/booleans). */
function compareValues(op: CmpOp): (a: number, b: number) => boolean {
  switch (op) {
    case '==':
      return (a, b) => a == b;
    case '!=':
      return (a, b) => a != b;
    case '<':
      return (a, b) => a < b;
    case '<=':
      return (a, b) => a <= b;
    case '>':
      return (a, b) => a > b;
    case '>=':
      return (a, b) => a >= b;
  }
}

function bindCmpCols(ga: Getter, ka: Kind, gb: Getter, kb: Kind, op: CmpOp): Predicate {
  const cmp = compareValues(op);
  const fa = ka === 'float32';
  const fb = kb === 'float32';
  return (o) => {
    let a = ga(o) as number;
    let b = gb(o) as number;
    if (a == null || b == null) return false;
    if (fa) a = Math.fround(a);
    if (fb) b = Math.fround(b);
    return cmp(a, b);
  };
}

function bindRange(g: Getter, kind: Kind, p: Extract<Pred, { k: 'range' }>): Predicate {
  const lo = p.lo as number;
  const hi = p.hi as number;
  const { loInc, hiInc, neg } = p;
  let known: (v: unknown) => boolean;
  if (kind === 'json') {
    const wantString = typeof lo === 'string';
    known = wantString ? (v) => typeof v === 'string' : (v) => typeof v === 'number' || typeof v === 'bigint';
  } else {
    known = (v) => v != null;
  }
  const f32 = kind === 'float32';
  return (o) => {
    let v = g(o) as number;
    if (!known(v)) return false;
    if (f32) v = Math.fround(v);
    const inside = (loInc ? v >= lo : v > lo) && (hiInc ? v <= hi : v < hi);
    return inside !== neg;
  };
}

/** Membership test for an `in` list; built once per compiled filter and shared by every bind. */
function buildMembership(kind: Kind, values: unknown[]): (v: unknown) => boolean {
  switch (kind) {
    case 'int64': {
      const set = new Set(values);
      // Int64 columns hold bigint; a number (from a lax source) is matched by value, never by type coercion.
      return (v) => (typeof v === 'bigint' ? set.has(v) : typeof v === 'number' && Number.isInteger(v) && set.has(BigInt(v)));
    }
    case 'float32': {
      const set = new Set(values);
      return (v) => typeof v === 'number' && set.has(Math.fround(v));
    }
    case 'json': {
      const scalars = new Set<unknown>();
      const arrays: unknown[] = [];
      for (const v of values) {
        if (Array.isArray(v)) arrays.push(v);
        else scalars.add(normKey(v));
      }
      return (v) => {
        if (Array.isArray(v)) return arrays.some((a) => jsonEquals(v, a));
        if (typeof v === 'object') return false;
        return scalars.has(typeof v === 'number' && Number.isSafeInteger(v) ? v : normKey(v));
      };
    }
    default: {
      const set = new Set(values);
      return (v) => set.has(v);
    }
  }
}

const membershipCache = new WeakMap<Pred, (v: unknown) => boolean>();

function bindIn(g: Getter, p: Extract<Pred, { k: 'in' }>): Predicate {
  if (p.values.length === 0) return p.neg ? (o) => g(o) != null : FALSE;
  let test = membershipCache.get(p);
  if (!test) {
    test = buildMembership(p.ref.kind, p.values);
    membershipCache.set(p, test);
  }
  const t = test;
  return p.neg
    ? (o) => {
        const v = g(o);
        return v != null && !t(v);
      }
    : (o) => t(g(o));
}

function bindLike(g: Getter, m: LikeMatcher, neg: boolean): Predicate {
  if (m.kind === 'any') return neg ? FALSE : (o) => typeof g(o) === 'string';
  if (!neg) {
    switch (m.kind) {
      case 'eq': {
        const lit = m.lit;
        return (o) => g(o) === lit;
      }
      case 'prefix': {
        const lit = m.lit;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v.startsWith(lit);
        };
      }
      case 'suffix': {
        const lit = m.lit;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v.endsWith(lit);
        };
      }
      case 'contains': {
        const lit = m.lit;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && v.includes(lit);
        };
      }
      case 'wild': {
        const t = m.test;
        return (o) => {
          const v = g(o);
          return typeof v === 'string' && t(v);
        };
      }
    }
  }
  let test: (s: string) => boolean;
  switch (m.kind) {
    case 'eq': {
      const lit = m.lit;
      test = (s) => s === lit;
      break;
    }
    case 'prefix': {
      const lit = m.lit;
      test = (s) => s.startsWith(lit);
      break;
    }
    case 'suffix': {
      const lit = m.lit;
      test = (s) => s.endsWith(lit);
      break;
    }
    case 'contains': {
      const lit = m.lit;
      test = (s) => s.includes(lit);
      break;
    }
    case 'wild':
      test = m.test;
      break;
  }
  return (o) => {
    const v = g(o);
    return typeof v === 'string' && !test(v);
  };
}

/** Integer arithmetic as Milvus does it on int64 (truncating division, remainder with the dividend's sign). */
function bigArith(op: ArithOp): (a: bigint, b: bigint) => bigint {
  switch (op) {
    case '+':
      return (a, b) => a + b;
    case '-':
      return (a, b) => a - b;
    case '*':
      return (a, b) => a * b;
    case '/':
      return (a, b) => a / b;
    case '%':
      return (a, b) => a % b;
  }
}

function floatArith(op: ArithOp): (a: number, b: number) => number {
  switch (op) {
    case '+':
      return (a, b) => a + b;
    case '-':
      return (a, b) => a - b;
    case '*':
      return (a, b) => a * b;
    case '/':
      return (a, b) => a / b;
    case '%':
      return (a, b) => a % b;
  }
}

/** Integer arithmetic on JS numbers; callers make sure operands keep results below 2^53. */
function smallIntArith(op: ArithOp): (a: number, b: number) => number {
  return op === '/' ? (a, b) => Math.trunc(a / b) : floatArith(op);
}

/** Largest |operand| for which `int32 op operand` stays exact in a double. */
function numberSafe(op: ArithOp, operand: bigint): boolean {
  const abs = operand < 0n ? -operand : operand;
  return op === '*' ? abs <= 2n ** 21n : op === '+' || op === '-' ? abs <= 2n ** 52n : true;
}

function bindArith(g: Getter, kind: Kind, p: Extract<Pred, { k: 'arith' }>): Predicate {
  const cmp = compareValues(p.op);
  const target = p.v as number;
  if (kind === 'int64') {
    const f = bigArith(p.aop);
    const b = p.operand as bigint;
    return (o) => {
      const v = g(o);
      return typeof v === 'bigint' && cmp(f(v, b) as unknown as number, target);
    };
  }
  if (kind === 'int32') {
    const b = p.operand as bigint;
    if (numberSafe(p.aop, b)) {
      const f = smallIntArith(p.aop);
      const n = Number(b);
      return (o) => {
        const v = g(o);
        return typeof v === 'number' && cmp(f(v, n), target);
      };
    }
    const f = bigArith(p.aop);
    return (o) => {
      const v = g(o);
      return typeof v === 'number' && cmp(f(BigInt(v), b) as unknown as number, target);
    };
  }
  if (kind === 'float32' || kind === 'double') {
    const f = floatArith(p.aop);
    const n = p.operand as number;
    const f32 = kind === 'float32';
    return (o) => {
      const v = g(o);
      return typeof v === 'number' && cmp(f(f32 ? Math.fround(v) : v, n), target);
    };
  }
  // JSON: integer semantics when both the value and the operand are integers, double otherwise.
  const big = bigArith(p.aop);
  const flt = floatArith(p.aop);
  const small = smallIntArith(p.aop);
  const intOperand = typeof p.operand === 'bigint';
  const opBig = intOperand ? (p.operand as bigint) : 0n;
  const opNum = Number(p.operand);
  const isMod = p.aop === '%';
  return (o) => {
    const v = g(o);
    let r: number | bigint;
    if (typeof v === 'bigint') {
      r = intOperand ? big(v, opBig) : flt(Number(v), opNum);
    } else if (typeof v === 'number') {
      if (intOperand && Number.isInteger(v)) {
        r = small(v, opNum);
        if (!Number.isSafeInteger(r) || !Number.isSafeInteger(v) || !Number.isSafeInteger(opNum)) r = big(BigInt(v), opBig);
      } else if (isMod) {
        return false;
      } else {
        r = flt(v, opNum);
      }
    } else {
      return false;
    }
    return cmp(r as number, target);
  };
}

/** Maps an array element to the index of the contains value it equals, or -1. */
function elementMatcher(kind: Kind, values: unknown[]): { indexOf: (e: unknown) => number; count: number } {
  if (kind === 'json') {
    const scalars = new Map<unknown, number>();
    const arrays: unknown[] = [];
    for (const v of values) {
      if (Array.isArray(v)) {
        if (!arrays.some((a) => jsonEquals(a, v))) arrays.push(v);
      } else {
        const key = normKey(v);
        if (!scalars.has(key)) scalars.set(key, scalars.size);
      }
    }
    const base = scalars.size;
    return {
      count: base + arrays.length,
      indexOf: (e) => {
        if (Array.isArray(e)) {
          for (let i = 0; i < arrays.length; i++) if (jsonEquals(e, arrays[i])) return base + i;
          return -1;
        }
        if (typeof e === 'object') return -1;
        return scalars.get(normKey(e)) ?? -1;
      },
    };
  }
  const index = new Map<unknown, number>();
  let count = 0;
  for (const v of values) {
    if (v === NO_MATCH)
      count++; // can never be found, but still required by contains_all
    else if (!index.has(v)) index.set(v, count++);
  }
  const f32 = kind === 'float32';
  return { count, indexOf: (e) => index.get(f32 && typeof e === 'number' ? Math.fround(e) : e) ?? -1 };
}

const matcherCache = new WeakMap<Pred, ReturnType<typeof elementMatcher>>();

function bindContains(g: Getter, kind: Kind, p: Extract<Pred, { k: 'contains' }>): Predicate {
  let matcher = matcherCache.get(p);
  if (!matcher) {
    matcher = elementMatcher(kind, p.values);
    matcherCache.set(p, matcher);
  }
  const { indexOf, count } = matcher;
  const neg = p.neg;
  if (p.mode === 'all') {
    if (count === 0) return (o) => Array.isArray(g(o)) !== neg;
    // Per-row "seen" marks without allocation: a stamp that changes every row.
    const seen = new Int32Array(count);
    let stamp = 0;
    return (o) => {
      const v = g(o);
      if (!Array.isArray(v)) return false;
      if (++stamp === 0x7fffffff) {
        seen.fill(0);
        stamp = 1;
      }
      let found = 0;
      for (let i = 0; i < v.length; i++) {
        const k = indexOf(v[i]);
        if (k >= 0 && seen[k] !== stamp) {
          seen[k] = stamp;
          if (++found === count) return !neg;
        }
      }
      return neg;
    };
  }
  return (o) => {
    const v = g(o);
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (indexOf(v[i]) >= 0) return !neg;
    return neg;
  };
}

function bindAnd(fs: Predicate[]): Predicate {
  if (fs.length === 2) {
    const [a, b] = fs as [Predicate, Predicate];
    return (o) => a(o) && b(o);
  }
  if (fs.length === 3) {
    const [a, b, c] = fs as [Predicate, Predicate, Predicate];
    return (o) => a(o) && b(o) && c(o);
  }
  return (o) => {
    for (let i = 0; i < fs.length; i++) if (!fs[i]!(o)) return false;
    return true;
  };
}

function bindOr(fs: Predicate[]): Predicate {
  if (fs.length === 2) {
    const [a, b] = fs as [Predicate, Predicate];
    return (o) => a(o) || b(o);
  }
  if (fs.length === 3) {
    const [a, b, c] = fs as [Predicate, Predicate, Predicate];
    return (o) => a(o) || b(o) || c(o);
  }
  return (o) => {
    for (let i = 0; i < fs.length; i++) if (fs[i]!(o)) return true;
    return false;
  };
}

function bindPred(p: Pred, b: Binder): Predicate {
  switch (p.k) {
    case 'const':
      return p.v ? TRUE : FALSE;
    case 'and':
      return bindAnd(p.items.map((i) => bindPred(i, b)));
    case 'or':
      return bindOr(p.items.map((i) => bindPred(i, b)));
    case 'cmp': {
      const g = b.getter(p.ref);
      switch (p.ref.kind) {
        case 'json':
          return bindJsonCmp(g, p.op, p.v);
        case 'float32':
          return bindFloat32Cmp(g, p.op, p.v);
        case 'string':
        case 'bool':
          return bindStrictCmp(g, p.op, p.v);
        default:
          return bindNumCmp(g, p.op, p.v);
      }
    }
    case 'cmpCols':
      return bindCmpCols(b.getter(p.left), p.left.kind, b.getter(p.right), p.right.kind, p.op);
    case 'range':
      return bindRange(b.getter(p.ref), p.ref.kind, p);
    case 'in':
      return bindIn(b.getter(p.ref), p);
    case 'like':
      return bindLike(b.getter(p.ref), p.m, p.neg);
    case 'arith':
      return bindArith(b.getter(p.ref), p.ref.kind, p);
    case 'length': {
      const g = b.getter(p.ref);
      const cmp = compareValues(p.op);
      const n = p.v;
      return (o) => {
        const v = g(o);
        return Array.isArray(v) && cmp(v.length, n);
      };
    }
    case 'null': {
      const g = b.getter(p.ref);
      return p.isNull ? (o) => g(o) == null : (o) => g(o) != null;
    }
    case 'contains':
      return bindContains(b.getter(p.ref), p.ref.elementKind ?? 'json', p);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------------------

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
