/**
 * Syntax tree of a Milvus boolean filter expression, as produced by the grammar in filter-grammar.ts.
 * Nodes are untyped (no schema knowledge); compile-filter.ts type-checks them against a collection schema.
 * Every node carries its source span (UTF-16 offsets into the expression) for error messages.
 */

/** Source span of a node: `start` inclusive, `end` exclusive offsets into the expression text. */
export interface Span {
  start: number;
  end: number;
}

/** Integer literal (decimal, octal `0..`, hex `0x..`, binary `0b..`); kept as bigint so Int64 values stay exact. */
export interface IntLiteral extends Span {
  kind: 'int';
  value: bigint;
}

/** Floating-point literal (decimal or hex-float). */
export interface FloatLiteral extends Span {
  kind: 'float';
  value: number;
}

/** Boolean literal (`true`, `True`, `TRUE`, and the `false` forms). */
export interface BoolLiteral extends Span {
  kind: 'bool';
  value: boolean;
}

/** String literal with C escapes already decoded (`\%` and `\_` are kept escaped for LIKE patterns). */
export interface StringLiteral extends Span {
  kind: 'string';
  value: string;
}

/** One `[...]` step of a JSON/array path: a quoted key or a decimal index. */
export type PathKey = { key: string } | { index: number };

/** A field reference: `name`, `$meta`, or a path `name["a"][0]` / `$meta["k"]` (keys empty for a bare name). */
export interface FieldRef extends Span {
  kind: 'field';
  name: string;
  keys: PathKey[];
}

/** Template variable `{name}`, substituted from exprParams at compile time. */
export interface TemplateRef extends Span {
  kind: 'template';
  name: string;
}

/** List literal `[a, b, ...]` (elements must be constants). */
export interface ListLiteral extends Span {
  kind: 'list';
  items: Expr[];
}

/** `exists expr` (JSON key presence). */
export interface ExistsExpr extends Span {
  kind: 'exists';
  operand: Expr;
}

/** `expr like "pattern"`. */
export interface LikeExpr extends Span {
  kind: 'like';
  operand: Expr;
  pattern: string;
}

/** Prefix operator: `+`, `-`, `~` or logical `not` (`not`, `NOT`, `!`). */
export interface UnaryExpr extends Span {
  kind: 'unary';
  op: '+' | '-' | '~' | 'not';
  operand: Expr;
}

/** Binary operators other than `and`/`or`/`in`, grouped left-associatively by precedence. */
export type BinaryOp = '**' | '*' | '/' | '%' | '+' | '-' | '<<' | '>>' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&' | '^' | '|';

/** A binary operation `left op right`. */
export interface BinaryExpr extends Span {
  kind: 'binary';
  op: BinaryOp;
  left: Expr;
  right: Expr;
}

/** `and`/`or` chain, flattened: `a and b and c` is one node with three items. */
export interface LogicalExpr extends Span {
  kind: 'logical';
  op: 'and' | 'or';
  items: Expr[];
}

/** `expr in list` / `expr not in list`. */
export interface InExpr extends Span {
  kind: 'in';
  operand: Expr;
  list: Expr;
  negated: boolean;
}

/** Chained range `lo < f <= hi` or `hi > f >= lo`, normalized to lower/upper bounds. */
export interface RangeExpr extends Span {
  kind: 'range';
  target: FieldRef;
  lower: Expr;
  upper: Expr;
  lowerInclusive: boolean;
  upperInclusive: boolean;
}

/** `json_contains*` / `array_contains*` (any case); `mode` is `one` for the plain form. */
export interface ContainsExpr extends Span {
  kind: 'contains';
  fn: string;
  mode: 'one' | 'all' | 'any';
  target: Expr;
  value: Expr;
}

/** `array_length(field)`. */
export interface ArrayLengthExpr extends Span {
  kind: 'arrayLength';
  target: FieldRef;
}

/** `field is null` / `field is not null`. */
export interface IsNullExpr extends Span {
  kind: 'isNull';
  target: FieldRef;
  negated: boolean;
}

/** Generic function call `name(args...)` (segcore registers only `empty` and `starts_with`). */
export interface CallExpr extends Span {
  kind: 'call';
  name: string;
  args: Expr[];
}

/** A construct that parses but that Migrans does not execute: text_match, phrase_match, st_* (GIS). */
export interface UnsupportedCall extends Span {
  kind: 'unsupported';
  name: string;
  args: Expr[];
}

/** Any filter expression node. */
export type Expr =
  | IntLiteral
  | FloatLiteral
  | BoolLiteral
  | StringLiteral
  | FieldRef
  | TemplateRef
  | ListLiteral
  | ExistsExpr
  | LikeExpr
  | UnaryExpr
  | BinaryExpr
  | LogicalExpr
  | InExpr
  | RangeExpr
  | ContainsExpr
  | ArrayLengthExpr
  | IsNullExpr
  | CallExpr
  | UnsupportedCall;
