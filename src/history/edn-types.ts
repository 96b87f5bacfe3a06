/** EDN's own value classes, apart from the reader so the value identity (value-key.ts) can name them. */

/** A symbol (not a keyword): kept distinct from strings so it writes back as a symbol. */
export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

/** Writer input only: forces a string to be written as a keyword (`keyword('write')` → `:write`). */
export class EdnKeyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

export function keyword(name: string): EdnKeyword {
  return new EdnKeyword(name);
}
