/**
 * The filter type checker (AST → typed plan), following Milvus 2.5's plan visitor
 * (internal/parser/planparserv2): walks the syntax tree, resolves fields, folds constants, casts them
 * to the column types and rejects what Milvus rejects, with its messages. `not` is pushed down to the
 * leaves as it is met. Field resolution, constant folding/casting and exprParams templates live in
 * their own modules; this one holds the per-node rules.
 */
import type { CollectionSchema } from '../schema/types.ts';
import type { Expr, Span } from './filter-ast.ts';
import { filterError } from './filter-grammar.ts';
import { ARITH_NAME, castable, castConst, constType, elementValue, foldArith, foldCompare, formatConst, power } from './filter-constants.ts';
import { negate } from './filter-optimize.ts';
import {
  compileLike,
  INT64_MAX,
  INT64_MIN,
  isIntKind,
  isNumConst,
  isNumKind,
  jsonValue,
  MIRROR,
  type ArithOp,
  type CmpOp,
  type ColumnRef,
  type Const,
  type ContainsMode,
  type FilterErrors,
  type Operand,
  type Pred,
} from './filter-plan.ts';
import { FieldResolver } from './filter-resolve.ts';
import { templateConst } from './filter-templates.ts';
import { MAX_LIKE_PATTERN_LENGTH, MAX_TERM_COUNT } from '../request-limits.ts';

const BIT_OPS: Partial<Record<string, string>> = { '&': 'BitAnd', '|': 'BitOr', '^': 'BitXor' };
const CONTAINS_NAME: Record<ContainsMode, string> = { one: 'Contains', all: 'ContainsAll', any: 'ContainsAny' };

/** Walks the syntax tree, resolving fields against the schema and enforcing Milvus's typing rules. */
export class Checker implements FilterErrors {
  private readonly fields: FieldResolver;

  constructor(
    private readonly expression: string,
    schema: CollectionSchema,
    private readonly params: Record<string, unknown> | undefined,
  ) {
    this.fields = new FieldResolver(this, schema);
  }

  /** Throws the filter's InvalidParameterError located at `node`. */
  fail(node: Span, reason: string): never {
    throw filterError(this.expression, reason, node);
  }

  /** The source text of `node`, for messages. */
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

  /** Type-checks one sub-expression: a constant (folded), a column, `field op const`, array_length or a predicate. */
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
        return { k: 'const', c: templateConst(this, this.params, e.name, e), bare: true, template: true, node: e };
      case 'field':
        return { k: 'column', ref: this.fields.resolve(e), node: e };
      case 'exists': {
        const o = this.check(e.operand);
        if (o.k !== 'column') this.fail(e.operand, `exists operations are only supported on single fields now, got: ${this.text(e.operand)}`);
        if (o.ref.kind !== 'json') this.fail(e.operand, `exists operations are only supported on json field, got: ${o.ref.typeName} (${o.ref.text})`);
        if (o.ref.steps.length === 0) this.fail(e.operand, `exists operations are only supported on json key, e.g. exists ${o.ref.text}["key"]`);
        return { k: 'pred', p: { k: 'null', ref: o.ref, isNull: false }, node: e };
      }
      case 'isNull': {
        // On a JSON path Milvus rewrites `is null` to `not exists`; both read "value null or missing".
        const ref = this.fields.resolve(e.target);
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
            return power(this, e, l, r);
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
        const ref = this.fields.resolve(e.target);
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

  /** `field op const` (or `const + field`, `const * field`); anything else Milvus rejects. */
  private arith(e: Expr, op: ArithOp, l: Operand, r: Operand): Operand {
    if (l.k === 'const' && r.k === 'const') {
      if (l.template || r.template) this.fail(e, `placeholder was not supported between two constants with operator: ${op}`);
      return { k: 'const', c: foldArith(this, e, op, l.c, r.c), bare: false, template: false, node: e };
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

  private compare(e: Expr, op: CmpOp, l: Operand, r: Operand): Operand {
    if (l.k === 'const' && r.k === 'const') {
      if (l.template || r.template) this.fail(e, `placeholder was not supported between two constants with operator: ${op}`);
      return { k: 'const', c: { t: 'bool', v: foldCompare(this, e, op, l.c, r.c) }, bare: false, template: false, node: e };
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
    return { k: 'cmp', ref, op, v: castConst(this, e, ref.kind, ref.typeName, ref.text, c) };
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
      return castConst(this, listNode, ref.kind, ref.typeName, ref.text, item);
    });
    if (values.length === 1 && !(ref.kind === 'json' && Array.isArray(values[0]))) {
      return { k: 'cmp', ref, op: negated ? '!=' : '==', v: values[0] };
    }
    return { k: 'in', ref, values, neg: negated };
  }

  private range(e: Extract<Expr, { kind: 'range' }>): Pred {
    const ref = this.fields.resolve(e.target);
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
      loV = castConst(this, e.lower, ref.kind, ref.typeName, ref.text, lo.c);
      hiV = castConst(this, e.upper, ref.kind, ref.typeName, ref.text, hi.c);
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
      if (e.mode === 'one') return castConst(this, e.value, ek, elementType, ref.text, item);
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
