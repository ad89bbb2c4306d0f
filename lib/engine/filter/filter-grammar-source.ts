/**
 * The Milvus 2.5 filter expression grammar (internal/parser/planparserv2/Plan.g4) as a peggy PEG. The
 * parser generated from it is committed as filter-parser.generated.ts (regenerate with
 * `node --import tsx scripts/generate-filter-parser.ts` after editing the grammar; a unit
 * test fails while they differ).
 */

/** The peggy grammar source. Actions build the node types of filter-ast.ts. */
export const FILTER_GRAMMAR = String.raw`
{{
  // Words the lexer of Plan.g4 turns into keyword tokens, so they can never name a field.
  const RESERVED = new Set([
    'and', 'AND', 'or', 'OR', 'not', 'NOT', 'in', 'IN', 'like', 'LIKE', 'exists', 'EXISTS',
    'true', 'True', 'TRUE', 'false', 'False', 'FALSE',
    'json_contains', 'JSON_CONTAINS', 'json_contains_all', 'JSON_CONTAINS_ALL',
    'json_contains_any', 'JSON_CONTAINS_ANY', 'array_contains', 'ARRAY_CONTAINS',
    'array_contains_all', 'ARRAY_CONTAINS_ALL', 'array_contains_any', 'ARRAY_CONTAINS_ANY',
    'array_length', 'ARRAY_LENGTH', 'text_match', 'TEXT_MATCH', 'phrase_match', 'PHRASE_MATCH',
  ]);
  const UNSUPPORTED = new Set([
    'text_match', 'phrase_match', 'st_equals', 'st_touches', 'st_overlaps', 'st_crosses',
    'st_contains', 'st_intersects', 'st_within', 'st_dwithin', 'st_isvalid',
  ]);
  const CONTAINS = new Map([
    ['json_contains', 'one'], ['json_contains_all', 'all'], ['json_contains_any', 'any'],
    ['array_contains', 'one'], ['array_contains_all', 'all'], ['array_contains_any', 'any'],
  ]);
  const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
  const BOOLEANS = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
  // Keywords exist in exactly two spellings: all lower case or all upper case.
  function isKeyword(word, lower) { return word === lower || word === lower.toUpperCase(); }
  function caseForm(word) { return word === word.toLowerCase() || word === word.toUpperCase(); }

  function makeLogical(op, head, tail) {
    if (tail.length === 0) return head;
    const items = [];
    for (const e of [head, ...tail]) {
      if (e.kind === 'logical' && e.op === op) items.push(...e.items); else items.push(e);
    }
    return { kind: 'logical', op, items, start: head.start, end: tail[tail.length - 1].end };
  }
  function foldBinary(head, tail) {
    let left = head;
    for (const t of tail) left = { kind: 'binary', op: t.op, left, right: t.right, start: left.start, end: t.right.end };
    return left;
  }
  function hexFloatValue(text) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(text);
    const whole = m[1] || '0';
    const frac = m[2] || '';
    const mantissa = parseInt(whole + frac || '0', 16);
    return mantissa * Math.pow(2, Number(m[3]) - 4 * frac.length);
  }
}}
{
  // range() gives offsets only; location() would compute line/column for every node (slow on long lists).
  function at() { const r = range(); return { start: r.start, end: r.end }; }

  // The word at the current position, without consuming it. Keyword rules test it in a predicate before
  // consuming, so a failed keyword match reports the word's start rather than its end.
  function peekWord() {
    WORD.lastIndex = offset();
    const m = WORD.exec(input);
    return m === null ? '' : m[0];
  }

  // Integers (decimal, octal 0.., hex 0x.., binary 0b..) become bigint; anything with a point/exponent a float.
  function numberNode(text) {
    const start = offset();
    const end = start + text.length;
    if (text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) {
      if (/[pP]/.test(text)) return { kind: 'float', value: hexFloatValue(text), start, end };
      if (text.includes('.')) error('hexadecimal floating constant ' + text + ' needs a binary exponent (p)');
      return { kind: 'int', value: BigInt(text), start, end };
    }
    if (text[0] === '0' && (text[1] === 'b' || text[1] === 'B')) return { kind: 'int', value: BigInt(text), start, end };
    if (/[.eE]/.test(text)) return { kind: 'float', value: Number(text), start, end };
    if (text.length > 1 && text[0] === '0') {
      if (/[89]/.test(text)) error('invalid octal literal ' + text + ': a leading 0 means octal');
      return { kind: 'int', value: BigInt('0o' + text.slice(1)), start, end };
    }
    return { kind: 'int', value: BigInt(text), start, end };
  }
}

Start
  = _ e:Expr _ { return e; }

Expr
  = OrExpr

OrExpr
  = head:AndExpr tail:(_ OrOp _ @AndExpr)* { return makeLogical('or', head, tail); }

AndExpr
  = head:AndOperand tail:(_ AndOp _ @AndOperand)* { return makeLogical('and', head, tail); }

// Fast path for the dominant shape "field <op> literal" directly followed by and/or/")"/end: it builds the
// same node the full descent through a dozen precedence levels would, at a fraction of the cost
// (matters for generated filters like "id == 1 or id == 2 or ...").
AndOperand
  = @SimpleComparison &(_ (AndOp / OrOp / ")" / !.))
  / BitExpr

SimpleComparison
  = left:FieldRef _ op:("==" / "!=" / "<=" / ">=" / $("<" !"<") / $(">" !">")) _ right:(NumberLiteral / StringLiteral / BoolLiteral) {
      return { kind: 'binary', op, left, right, start: left.start, end: right.end };
    }

// Plan.g4 gives & ^ | three levels; they share one here because all three are rejected after parsing, so
// their relative precedence can only change which rejection message is reported.
BitExpr
  = head:EqExpr tail:(_ op:$("|" !"|" / "^" / "&" !"&") _ right:EqExpr { return { op, right }; })* { return foldBinary(head, tail); }

EqExpr
  = head:RelExpr tail:(_ op:("==" / "!=") _ right:RelExpr { return { op, right }; })* { return foldBinary(head, tail); }

// A range is tried right after the first operand so that operand is parsed only once (no re-parsing of
// nested parentheses, which would be exponential).
RelExpr
  = head:InExpr range:RangeTail? tail:(_ op:RelOp _ right:InExpr { return { op, right }; })* {
      let left = head;
      if (range) {
        const first = range.op1.length === 2;
        const second = range.op2.length === 2;
        left = range.dir === 'asc'
          ? { kind: 'range', target: range.target, lower: head, upper: range.bound,
              lowerInclusive: first, upperInclusive: second, start: head.start, end: range.bound.end }
          : { kind: 'range', target: range.target, lower: range.bound, upper: head,
              lowerInclusive: second, upperInclusive: first, start: head.start, end: range.bound.end };
      }
      return foldBinary(left, tail);
    }

RangeTail
  = _ op1:LtOp _ target:FieldRef _ op2:LtOp _ bound:InExpr { return { dir: 'asc', op1, op2, target, bound }; }
  / _ op1:GtOp _ target:FieldRef _ op2:GtOp _ bound:InExpr { return { dir: 'desc', op1, op2, target, bound }; }

LtOp = "<=" / $("<" !"<")
GtOp = ">=" / $(">" !">")
RelOp = "<=" / ">=" / $("<" !"<") / $(">" !">")

InExpr
  = head:ShiftExpr tail:(_ neg:(@NotOp _)? InOp _ right:ShiftExpr { return { neg: neg !== null, right }; })* {
      let left = head;
      for (const t of tail) left = { kind: 'in', operand: left, list: t.right, negated: t.neg, start: left.start, end: t.right.end };
      return left;
    }

ShiftExpr
  = head:AddExpr tail:(_ op:("<<" / ">>") _ right:AddExpr { return { op, right }; })* { return foldBinary(head, tail); }

AddExpr
  = head:MulExpr tail:(_ op:("+" / "-") _ right:MulExpr { return { op, right }; })* { return foldBinary(head, tail); }

MulExpr
  = head:UnaryExpr tail:(_ op:$("*" !"*" / "/" / "%") _ right:UnaryExpr { return { op, right }; })* { return foldBinary(head, tail); }

UnaryExpr
  = op:UnaryOp _ operand:UnaryExpr { return { kind: 'unary', op, operand, ...at() }; }
  / PowerExpr

UnaryOp "unary operator"
  = "+" / "-" / "~" / NotOp { return 'not'; }

PowerExpr
  = head:LikeExpr tail:(_ op:"**" _ right:PowerOperand { return { op, right }; })* { return foldBinary(head, tail); }

PowerOperand
  = op:UnaryOp _ operand:UnaryExpr { return { kind: 'unary', op, operand, ...at() }; }
  / LikeExpr

LikeExpr
  = head:Primary tail:(_ LikeOp _ @StringLiteral)* {
      let left = head;
      for (const p of tail) left = { kind: 'like', operand: left, pattern: p.value, start: left.start, end: p.end };
      return left;
    }

// Not a named rule: naming it would hide the position of failures inside parentheses and lists.
Primary
  = "(" _ e:Expr _ ")" { return e; }
  / ListLiteral
  / TemplateRef
  / ExistsExpr
  / UnsupportedCall
  / ContainsCall
  / ArrayLengthCall
  / IsNullExpr
  / CallExpr
  / NumberLiteral
  / BoolLiteral
  / StringLiteral
  / FieldRef

ListLiteral
  = "[" _ "]" { return { kind: 'list', items: [], ...at() }; }
  / "[" _ head:ListItem tail:(_ "," _ @ListItem)* (_ ",")? _ "]" { return { kind: 'list', items: [head, ...tail], ...at() }; }

// Fast path for the common case of a plain literal element (long "id in [...]" lists), falling back to a full expression.
ListItem
  = @ListScalar &(_ ("," / "]"))
  / Expr

ListScalar
  = NumberLiteral
  / StringLiteral
  / "-" _ operand:NumberLiteral { return { kind: 'unary', op: '-', operand, ...at() }; }

TemplateRef
  = "{" _ name:Identifier _ "}" { return { kind: 'template', name, ...at() }; }

ExistsExpr
  = &{ return isKeyword(peekWord(), 'exists'); } Word _ operand:Primary { return { kind: 'exists', operand, ...at() }; }

UnsupportedCall
  = &{ const w = peekWord(); return UNSUPPORTED.has(w.toLowerCase()) && caseForm(w); } name:Word _ "(" _ args:ArgList? _ ")" {
      return { kind: 'unsupported', name: name.toLowerCase(), args: args ?? [], ...at() };
    }

ContainsCall
  = &{ const w = peekWord(); return CONTAINS.has(w.toLowerCase()) && caseForm(w); } fn:Word _ "(" _ target:Expr _ "," _ value:Expr _ ")" {
      return { kind: 'contains', fn: fn.toLowerCase(), mode: CONTAINS.get(fn.toLowerCase()), target, value, ...at() };
    }

ArrayLengthCall
  = &{ return isKeyword(peekWord(), 'array_length'); } Word _ "(" _ target:FieldRef _ ")" { return { kind: 'arrayLength', target, ...at() }; }

IsNullExpr
  = target:FieldRef _ IsOp _ not:(NotWord _)? NullWord { return { kind: 'isNull', target, negated: not !== null, ...at() }; }

CallExpr
  = name:Identifier _ "(" _ args:ArgList? _ ")" { return { kind: 'call', name, args: args ?? [], ...at() }; }

ArgList
  = head:Expr tail:(_ "," _ @Expr)* (_ ",")? { return [head, ...tail]; }

FieldRef "field name"
  = name:("$meta" / Identifier) keys:PathKey* { return { kind: 'field', name, keys, ...at() }; }

PathKey
  = "[" s:StringLiteral "]" { return { key: s.value }; }
  / "[" d:$([1-9] [0-9]* / "0") "]" { return { index: Number(d) }; }
  / "[" _ w:$([^\]"']+) _ "]" { error('json key must be enclosed in double quotes or single quotes: "' + w.trim() + '"'); }

Identifier "identifier"
  = &{ const w = peekWord(); return w !== '' && !RESERVED.has(w); } @Word

Word
  = $([a-zA-Z_] [a-zA-Z0-9_]*)

AndOp = "&&" / &{ return isKeyword(peekWord(), 'and'); } Word
OrOp = "||" / &{ return isKeyword(peekWord(), 'or'); } Word
NotOp = $("!" !"=") / NotWord
NotWord = &{ return isKeyword(peekWord(), 'not'); } Word
InOp = &{ return isKeyword(peekWord(), 'in'); } Word
LikeOp = &{ return isKeyword(peekWord(), 'like'); } Word
IsOp = &{ return isKeyword(peekWord(), 'is'); } Word
NullWord = &{ return isKeyword(peekWord(), 'null'); } Word

BoolLiteral "boolean"
  = &{ return BOOLEANS.has(peekWord()); } w:Word {
      return { kind: 'bool', value: w.toLowerCase() === 'true', ...at() };
    }

// One rule for all numeric literals so a long list scans each number once; the action classifies it.
NumberLiteral "number"
  = text:$(
        "0" [xX] ([0-9a-fA-F]* "." [0-9a-fA-F]+ / [0-9a-fA-F]+ "."?) ([pP] [+-]? [0-9]+)?
      / "0" [bB] [01]+
      / [0-9]+ ("." [0-9]*)? ([eE] [+-]? [0-9]+)?
      / "." [0-9]+ ([eE] [+-]? [0-9]+)?
    ) ![a-zA-Z0-9_.] { return numberNode(text); }

StringLiteral "string"
  = ("u8" / [uUL])? value:(DoubleQuoted / SingleQuoted) { return { kind: 'string', value, ...at() }; }

DoubleQuoted
  = '"' chars:($[^"\\\r\n]+ / Escape)* '"' { return chars.join(''); }

SingleQuoted
  = "'" chars:($[^'\\\r\n]+ / Escape)* "'" { return chars.join(''); }

Escape
  = "\\" @EscapeBody

EscapeBody
  = "n" { return '\n'; }
  / "t" { return '\t'; }
  / "r" { return '\r'; }
  / "b" { return '\b'; }
  / "f" { return '\f'; }
  / "v" { return '\v'; }
  / "a" { return '\x07'; }
  / "\\" / "'" / '"' / "?"
  / "x" h:$([0-9a-fA-F] [0-9a-fA-F]?) { return String.fromCharCode(parseInt(h, 16)); }
  / "u" h:$([0-9a-fA-F]|4|) { return String.fromCharCode(parseInt(h, 16)); }
  / "U" h:$([0-9a-fA-F]|8|) {
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff) error('invalid unicode escape \\U' + h + ' in string literal');
      return String.fromCodePoint(cp);
    }
  / o:$([0-7] [0-7]? [0-7]?) { return String.fromCharCode(parseInt(o, 8)); }
  // LIKE escapes survive string decoding so the pattern compiler sees them.
  / "%" { return '\\%'; }
  / "_" { return '\\_'; }
  / "\r"? "\n" { return ''; }
  / c:. { error('invalid escape sequence \\' + c + ' in string literal'); }

_ "whitespace"
  = [ \t\r\n]*
`;
