import { open } from 'node:fs/promises';
import { type ProxyHub, type ProxyInput, type ProxyState, proxyMembers, toxicMembers } from '../api/index.js';
import { describe } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { type JsonPosition, readJson } from '../core/json.js';
import { lineAndColumn, locateError, sourceError } from '../core/source.js';

/** A parsed `--config` file: Toxiproxy's format, a JSON array of proxies (faultline also takes `toxics`). */
export interface ProxyConfig {
  readonly file: string;
  readonly text: string;
  readonly proxies: ProxyInput[];
  /** Where each value (and member name) sits in `text`, by field path (`proxies[1].toxics[0].toxicity`). */
  readonly positions: ReadonlyMap<string, JsonPosition>;
}

/**
 * Config files larger than this are refused: a regular file before it is read, anything else (a FIFO,
 * `/dev/stdin`, which have no size) once this many bytes have been read.
 */
export const maxConfigBytes = 16 * 1024 * 1024;
/**
 * Deeper nesting than this is refused (the format needs 5 levels: array → proxy → toxics → toxic →
 * attributes), so no input can exhaust the stack.
 */
export const maxConfigDepth = 32;

export async function readProxyConfig(file: string): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await readBounded(file, maxConfigBytes);
  } catch (error) {
    throw new FaultlineError(codes.config, `${file}: cannot read config file: ${messageOf(error)}`, {
      cause: error,
      details: { file },
    });
  }
  return parseProxyConfig(file, text);
}

/** Reads `file` as UTF-8 through one handle, refusing it once more than `limitBytes` have been read. */
async function readBounded(file: string, limitBytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > limitBytes) throw new Error(`${size} bytes; the limit is ${limitBytes}`);
    const chunks: Buffer[] = [];
    let total = 0;
    // Bounded by limitBytes + 1 bytes: each read asks for at most what would cross the limit.
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limitBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limitBytes) throw new Error(`more than ${limitBytes} bytes; the limit is ${limitBytes}`);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Parses and checks the shape of a config: JSON syntax, an array of objects, no unknown or duplicate
 * keys. Every error names `file:line:column` and the field. Values are checked by `applyProxyConfig`.
 * Read with core's JSON reader rather than JSON.parse for the position of every value (so a value refused
 * later is placed too), bounded nesting and duplicate keys; numbers are read as JSON.parse reads them, as
 * the HTTP API reads the same proxies.
 */
export function parseProxyConfig(file: string, text: string): ProxyConfig {
  const fail = (offset: number, field: string, message: string, expected: string): never => {
    throw sourceError(file, text, offset, `${field}: ${message}`, { field, expected });
  };
  const positions = new Map<string, JsonPosition>();
  const root = readJson(text, {
    maxDepth: maxConfigDepth,
    duplicateKeys: 'error',
    byteOrderMark: true,
    positions,
    rootPath: 'proxies',
    textName: 'file',
    where: (offset) => {
      const { line, column } = lineAndColumn(text, offset);
      return `line ${line}, column ${column}`;
    },
    error: (problem) => {
      // The root is the whole file: an error there names no field.
      const field = problem.path === 'proxies' ? undefined : problem.path;
      const what =
        problem.kind === 'duplicate-key'
          ? `${field}: ${problem.message}`
          : `invalid JSON${field === undefined ? '' : ` in ${field}`}: ${problem.message}`;
      return sourceError(file, text, problem.offset, what, {
        ...(field === undefined ? {} : { field }),
        expected: problem.expected,
      });
    },
  });
  const at = (path: string): JsonPosition => positions.get(path) ?? { value: 0 };
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
    checkKeys(entry as object, path, proxyMembers, 'a proxy');
    const toxics = (entry as { toxics?: unknown }).toxics;
    if (!Array.isArray(toxics)) continue;
    for (const [j, toxic] of toxics.entries()) {
      if (isObject(toxic)) checkKeys(toxic, `${path}.toxics[${j}]`, toxicMembers, 'a toxic');
    }
  }
  return { file, text, proxies: root as ProxyInput[], positions };
}

/** Creates the config's proxies in `hub` as one step; an error names the file, line, column and field. */
export async function applyProxyConfig(hub: ProxyHub, config: ProxyConfig): Promise<ProxyState[]> {
  try {
    return await hub.populate(config.proxies);
  } catch (error) {
    throw locateError(config, error);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
