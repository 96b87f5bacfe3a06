import { readFile, stat } from 'node:fs/promises';
import { describe } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import type { ProxyHub, ProxyInput } from '../proxy/hub.js';
import type { ProxyState } from '../proxy/tcp-proxy.js';

/** A parsed `--config` file: Toxiproxy's format, a JSON array of proxies (faultline also takes `toxics`). */
export interface ProxyConfig {
  readonly file: string;
  readonly text: string;
  readonly proxies: ProxyInput[];
  /** Where each value sits in `text`, by field path (`proxies[1].toxics[0].toxicity`). */
  readonly positions: ReadonlyMap<string, Position>;
}

/** Offsets into the text: of a value, and of its key when it is an object member. */
export interface Position {
  readonly value: number;
  readonly key?: number;
}

/** Config files larger than this are refused before they are read. */
export const maxConfigBytes = 16 * 1024 * 1024;
/** Deeper nesting than this is refused (the format needs 4 levels), so no input can exhaust the stack. */
export const maxConfigDepth = 32;

const proxyKeys = ['name', 'listen', 'upstream', 'enabled', 'toxics'];
const toxicKeys = ['name', 'type', 'stream', 'toxicity', 'attributes'];

export async function readProxyConfig(file: string): Promise<ProxyConfig> {
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > maxConfigBytes) {
      throw new Error(`${size} bytes; the limit is ${maxConfigBytes}`);
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FaultlineError(codes.config, `${file}: cannot read config file: ${messageOf(error)}`, {
      cause: error,
      details: { file },
    });
  }
  return parseProxyConfig(file, text);
}

/**
 * Parses and checks the shape of a config: JSON syntax, an array of objects, no unknown or duplicate
 * keys. Every error names `file:line:column` and the field. Values are checked by `applyProxyConfig`.
 */
export function parseProxyConfig(file: string, text: string): ProxyConfig {
  const fail: Fail = (offset, field, message, expected, syntax = false) => {
    const { line, column } = lineAndColumn(text, offset);
    const what = syntax
      ? `invalid JSON${field === undefined ? '' : ` in ${field}`}: ${message}`
      : field === undefined
        ? message
        : `${field}: ${message}`;
    throw new FaultlineError(codes.config, `${file}:${line}:${column}: ${what}`, {
      details: {
        file,
        line,
        column,
        ...(field === undefined ? {} : { field }),
        ...(expected === undefined ? {} : { expected }),
      },
    });
  };
  const scanned = scanJson(text, fail);
  const { value: root, positions } = scanned;
  const at = (path: string): Position => positions.get(path) ?? { value: 0 };
  if (!Array.isArray(root)) {
    fail(
      at('proxies').value,
      'proxies',
      `expected a JSON array of proxies ([{"name", "listen", "upstream", "enabled"?, "toxics"?}]), got ${describe(root)}`,
      'a JSON array of proxies',
    );
  }
  const checkKeys = (object: object, path: string, valid: readonly string[], what: string): void => {
    for (const key of Object.keys(object)) {
      if (valid.includes(key)) continue;
      const field = `${path}.${key}`;
      const position = at(field);
      fail(
        position.key ?? position.value,
        field,
        `unknown key ${JSON.stringify(key)} in ${what}; valid keys: ${valid.join(', ')}`,
        valid.join(', '),
      );
    }
  };
  for (const [i, entry] of (root as unknown[]).entries()) {
    const path = `proxies[${i}]`;
    if (!isObject(entry)) {
      fail(at(path).value, path, `expected an object (a proxy), got ${describe(entry)}`, 'an object');
    }
    checkKeys(entry as object, path, proxyKeys, 'a proxy');
    const toxics = (entry as { toxics?: unknown }).toxics;
    if (!Array.isArray(toxics)) continue;
    for (const [j, toxic] of toxics.entries()) {
      if (isObject(toxic)) checkKeys(toxic, `${path}.toxics[${j}]`, toxicKeys, 'a toxic');
    }
  }
  return { file, text, proxies: root as ProxyInput[], positions };
}

/** Creates the config's proxies in `hub` as one step; an error names the file, line, column and field. */
export async function applyProxyConfig(hub: ProxyHub, config: ProxyConfig): Promise<ProxyState[]> {
  try {
    return await hub.populate(config.proxies);
  } catch (error) {
    throw locateConfigError(config, error);
  }
}

/** Rewrites an error about `proxies[i]…` to name the config file and the position of that field. */
export function locateConfigError(config: ProxyConfig, error: unknown): unknown {
  if (!(error instanceof FaultlineError)) return error;
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  // The field itself, or the nearest enclosing value that is in the file (a missing key: its entry).
  let offset: number | undefined;
  for (let path = field; path !== undefined && path !== ''; path = parentPath(path)) {
    const position = config.positions.get(path);
    if (position === undefined) continue;
    const unknownKey = path === field && /\bunknown (attribute|key)\b/.test(error.message);
    offset = unknownKey && position.key !== undefined ? position.key : position.value;
    break;
  }
  const where =
    offset === undefined
      ? config.file
      : (() => {
          const { line, column } = lineAndColumn(config.text, offset);
          return `${config.file}:${line}:${column}`;
        })();
  const named =
    field === undefined || error.message.startsWith(`${field}:`)
      ? error.message
      : `${field}: ${error.message}`;
  const position = offset === undefined ? {} : lineAndColumn(config.text, offset);
  return new FaultlineError(codes.config, `${where}: ${named}`, {
    cause: error,
    details: { ...error.details, file: config.file, ...position },
  });
}

/** `proxies[1].toxics[0]` → `proxies[1].toxics` → `proxies[1]` → `proxies` → undefined. */
function parentPath(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? undefined : path.slice(0, cut);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 1-based line and column (in characters, as editors count them) of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  let line = 1;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line, column: [...before.slice(lineStart)].length + 1 };
}

type Fail = (
  offset: number,
  field: string | undefined,
  message: string,
  expected?: string,
  syntax?: boolean,
) => never;

/**
 * A JSON parser that keeps the position of every value, as JSON.parse does not. Accepts exactly what
 * JSON.parse accepts (plus a leading byte-order mark), except duplicate keys and nesting deeper than
 * `maxConfigDepth`, which are errors here. Objects have a null prototype, so `__proto__` stays a key.
 */
function scanJson(text: string, fail: Fail): { value: unknown; positions: Map<string, Position> } {
  const positions = new Map<string, Position>();
  let duplicate: { keyAt: number; member: string; key: string; firstAt: number } | undefined;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const where = (path: string): string | undefined => (path === 'proxies' ? undefined : path);
  const syntax = (offset: number, path: string, message: string): never =>
    fail(offset, where(path), message, undefined, true);
  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const unexpected = (path: string, expected: string): never => {
    if (i >= text.length) syntax(i, path, `unexpected end of file; expected ${expected}`);
    return syntax(i, path, `unexpected ${showChar(text, i)}; expected ${expected}`);
  };
  const anyValue = 'a value (object, array, string, number, true, false or null)';

  const scanString = (path: string): string => {
    const start = i;
    i++; // the opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c < 0x20) {
        syntax(i, path, `unescaped control character ${showChar(text, i)} in a string`);
      }
      if (c === 0x5c) {
        const escaped = text.charAt(i + 1);
        if (escaped === '') break; // the text ends inside the string
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            syntax(i, path, '"\\u" must be followed by 4 hexadecimal digits');
          }
          i += 6;
        } else if ('"\\/bfnrt'.includes(escaped)) {
          i += 2;
        } else {
          syntax(i, path, `invalid escape ${showChar(text, i + 1)} after "\\"`);
        }
      } else {
        i++;
      }
    }
    return syntax(start, path, 'unterminated string (no closing ")');
  };

  const scanNumber = (path: string): number => {
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    const match = number.exec(text);
    if (match === null) {
      if (text.charAt(i) === '-') i++;
      return unexpected(path, 'a digit');
    }
    // Check what JSON forbids but the expression would stop before: `01`, `1.`, `1e`.
    const end = number.lastIndex;
    const next = text.charAt(end);
    if (/[0-9.eE]/.test(next) && next !== '') {
      i = end;
      const reason = match[0].endsWith('0') && /\d/.test(next) ? 'a number has no leading zeros' : 'a digit';
      return syntax(i, path, `unexpected ${showChar(text, i)} in a number (${reason})`);
    }
    i = end;
    return Number(match[0]);
  };

  const scanValue = (path: string, depth: number): unknown => {
    skipSpace();
    const start = i;
    const c = text.charAt(i);
    if (c === '{' || c === '[') {
      if (depth >= maxConfigDepth) {
        syntax(i, path, `nested deeper than ${maxConfigDepth} levels (a config needs 4)`);
      }
      i++;
      skipSpace();
      if (c === '[') {
        const array: unknown[] = [];
        if (text.charAt(i) === ']') {
          i++;
        } else {
          while (true) {
            const element = `${path}[${array.length}]`;
            array.push(scanValue(element, depth + 1));
            skipSpace();
            if (text.charAt(i) === ',') {
              i++;
              continue;
            }
            if (text.charAt(i) === ']') {
              i++;
              break;
            }
            unexpected(path, '"," or "]"');
          }
        }
        positions.set(path, positions.get(path) ?? { value: start });
        return array;
      }
      const object = Object.create(null) as Record<string, unknown>;
      if (text.charAt(i) === '}') {
        i++;
      } else {
        while (true) {
          skipSpace();
          if (text.charAt(i) !== '"') unexpected(path, 'a key in double quotes');
          const keyAt = i;
          const key = scanString(path);
          const member = `${path}.${key}`;
          // Reported once the whole text is known to be JSON: a syntax error further on comes first.
          if (Object.hasOwn(object, key) && duplicate === undefined) {
            duplicate = { keyAt, member, key, firstAt: positions.get(member)?.key ?? keyAt };
          }
          skipSpace();
          if (text.charAt(i) !== ':') unexpected(member, '":" after the key');
          i++;
          skipSpace();
          const valueAt = i;
          object[key] = scanValue(member, depth + 1);
          positions.set(member, { key: keyAt, value: valueAt });
          skipSpace();
          if (text.charAt(i) === ',') {
            i++;
            continue;
          }
          if (text.charAt(i) === '}') {
            i++;
            break;
          }
          unexpected(path, '"," or "}"');
        }
      }
      positions.set(path, positions.get(path) ?? { value: start });
      return object;
    }
    let value: unknown;
    if (c === '"') {
      value = scanString(path);
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      value = scanNumber(path);
    } else {
      const literal = /true|false|null/y;
      literal.lastIndex = i;
      const match = literal.exec(text);
      if (match === null) return unexpected(path, anyValue);
      i = literal.lastIndex;
      value = match[0] === 'true' ? true : match[0] === 'false' ? false : null;
    }
    if (!positions.has(path)) positions.set(path, { value: start });
    return value;
  };

  skipSpace();
  if (i >= text.length) unexpected('proxies', 'a JSON array of proxies');
  const value = scanValue('proxies', 0);
  skipSpace();
  if (i < text.length) {
    syntax(i, 'proxies', `unexpected ${showChar(text, i)} after the end of the JSON value`);
  }
  if (duplicate !== undefined) {
    const first = lineAndColumn(text, duplicate.firstAt);
    fail(
      duplicate.keyAt,
      duplicate.member,
      `duplicate key ${JSON.stringify(duplicate.key)} (first at line ${first.line}, column ${first.column})`,
      'each key once',
    );
  }
  return { value, positions };
}

/** A character for an error message: `","`, `"\n" (U+000A)`. */
function showChar(text: string, offset: number): string {
  const code = text.codePointAt(offset);
  if (code === undefined) return 'end of file';
  const char = String.fromCodePoint(code);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code < 0x20 || code === 0x7f || code === 0xfeff
    ? `${JSON.stringify(char)} (${hex})`
    : JSON.stringify(char);
}
