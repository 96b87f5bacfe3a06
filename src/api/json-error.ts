/**
 * Where a JSON text goes wrong, for error messages that point at it: V8 leaves the position out of some
 * of its messages ("Unexpected token …"). An iterative scan, so deep nesting cannot overflow the stack.
 * Returns the offset of the first character that cannot continue valid JSON (the length when the text
 * ends too soon), or -1 when the text is valid.
 */
export function jsonErrorOffset(text: string): number {
  const stack: Array<'array' | 'object'> = [];
  type Expect = 'value' | 'valueOrEnd' | 'key' | 'keyOrEnd' | 'colon' | 'commaOrEnd' | 'done';
  let expect: Expect = 'value';
  let i = 0;
  const afterValue = (): Expect => (stack.length === 0 ? 'done' : 'commaOrEnd');
  const close = (): void => {
    stack.pop();
    i++;
    expect = afterValue();
  };
  while (true) {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
    if (i >= text.length) return expect === 'done' ? -1 : text.length;
    const ch = text.charAt(i);
    switch (expect) {
      case 'done':
        return i;
      case 'colon':
        if (ch !== ':') return i;
        i++;
        expect = 'value';
        break;
      case 'commaOrEnd': {
        const top = stack.at(-1);
        if (ch === ',') {
          i++;
          expect = top === 'array' ? 'value' : 'key';
        } else if ((ch === ']' && top === 'array') || (ch === '}' && top === 'object')) {
          close();
        } else {
          return i;
        }
        break;
      }
      case 'key':
      case 'keyOrEnd':
        if (ch === '}' && expect === 'keyOrEnd') {
          close();
        } else if (ch === '"') {
          const end = stringEnd(text, i);
          if (end < 0) return -end - 1;
          i = end;
          expect = 'colon';
        } else {
          return i;
        }
        break;
      default: {
        if (ch === ']' && expect === 'valueOrEnd') {
          close();
        } else if (ch === '[' || ch === '{') {
          stack.push(ch === '[' ? 'array' : 'object');
          i++;
          expect = ch === '[' ? 'valueOrEnd' : 'keyOrEnd';
        } else if (ch === '"') {
          const end = stringEnd(text, i);
          if (end < 0) return -end - 1;
          i = end;
          expect = afterValue();
        } else {
          const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
          literal.lastIndex = i;
          if (literal.exec(text) === null) return i;
          i = literal.lastIndex;
          expect = afterValue();
        }
      }
    }
  }
}

/** The offset after the string starting at `start`, or -(offset of the error) - 1. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (code < 0x20) return -i - 1;
    if (code === 0x5c) {
      const escaped = text.charAt(i + 1);
      if (escaped === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return -(i + 1) - 1;
        i += 6;
      } else if ('"\\/bfnrt'.includes(escaped) && escaped !== '') {
        i += 2;
      } else {
        return -(i + 1) - 1;
      }
    } else {
      i++;
    }
  }
  return -text.length - 1;
}
