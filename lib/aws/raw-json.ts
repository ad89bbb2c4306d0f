/**
 * Splits JSON text into the raw text of its parts without re-encoding them: the proxy merges
 * querynode answers by moving their rows around verbatim (Int64 digits, float32 texts and key
 * order stay exactly as the querynode wrote them).
 */

function isSpace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text[i])) i++;
  return i;
}

/** End (exclusive) of the string whose opening quote is at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  throw new SyntaxError(`unterminated JSON string at offset ${i} of a querynode answer`);
}

/** End (exclusive) of the JSON value starting at `i` (no leading whitespace). */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = stringEnd(text, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new SyntaxError(`unterminated JSON ${c === '{' ? 'object' : 'array'} at offset ${i} of a querynode answer`);
  }
  let j = i;
  while (j < text.length && !isSpace(text[j]) && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j++;
  if (j === i) throw new SyntaxError(`expected a JSON value at offset ${i} of a querynode answer, found ${JSON.stringify(text.slice(i, i + 20))}`);
  return j;
}

/** The raw value texts of a JSON array's elements. */
export function rawElements(arrayText: string): string[] {
  let i = skipSpace(arrayText, 0);
  if (arrayText[i] !== '[') throw new SyntaxError(`expected a JSON array, got ${JSON.stringify(arrayText.slice(0, 40))}`);
  const out: string[] = [];
  i = skipSpace(arrayText, i + 1);
  if (arrayText[i] === ']') return out;
  for (;;) {
    const end = valueEnd(arrayText, i);
    out.push(arrayText.slice(i, end));
    i = skipSpace(arrayText, end);
    if (arrayText[i] === ']') return out;
    if (arrayText[i] !== ',') throw new SyntaxError(`expected , or ] at offset ${i} of a JSON array`);
    i = skipSpace(arrayText, i + 1);
  }
}

/** The raw value texts of a JSON object's members, by name (the last of duplicate names). */
export function rawMembers(objectText: string): Map<string, string> {
  let i = skipSpace(objectText, 0);
  if (objectText[i] !== '{') throw new SyntaxError(`expected a JSON object, got ${JSON.stringify(objectText.slice(0, 40))}`);
  const out = new Map<string, string>();
  i = skipSpace(objectText, i + 1);
  if (objectText[i] === '}') return out;
  for (;;) {
    if (objectText[i] !== '"') throw new SyntaxError(`expected a member name at offset ${i} of a JSON object`);
    const nameEnd = stringEnd(objectText, i);
    const name = JSON.parse(objectText.slice(i, nameEnd)) as string;
    i = skipSpace(objectText, nameEnd);
    if (objectText[i] !== ':') throw new SyntaxError(`expected : after member ${name} of a JSON object`);
    i = skipSpace(objectText, i + 1);
    const end = valueEnd(objectText, i);
    out.set(name, objectText.slice(i, end));
    i = skipSpace(objectText, end);
    if (objectText[i] === '}') return out;
    if (objectText[i] !== ',') throw new SyntaxError(`expected , or } at offset ${i} of a JSON object`);
    i = skipSpace(objectText, i + 1);
  }
}
