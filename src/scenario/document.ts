import { extname } from 'node:path';
import type { AST } from 'toml-eslint-parser';
import { getStaticTOMLValue, parseTOML } from 'toml-eslint-parser';
import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { readJson } from '../core/json.js';
import { type SourcePosition, type SourceText, sourceError } from '../core/source.js';

/** The formats a scenario may be written in: one model, three syntaxes. */
export type DocumentFormat = 'toml' | 'yaml' | 'json';
export const documentFormats: readonly DocumentFormat[] = ['toml', 'yaml', 'json'];

/** A scenario file read into plain values, with the position of every value by field path. */
export interface SourceDocument extends SourceText {
  readonly format: DocumentFormat;
  readonly value: unknown;
}

/** Deeper nesting is refused, so no file can exhaust the stack of the readers or the validator. */
const maxDepth = 64;
/** YAML aliases expand at most this many times (a "billion laughs" file is refused, not expanded). */
const maxAliasCount = 100;

/** The format of a file by its extension: `.toml`, `.yaml`/`.yml`, `.json`. */
export function formatOf(file: string): DocumentFormat {
  const extension = extname(file).toLowerCase();
  if (extension === '.toml') return 'toml';
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  if (extension === '.json') return 'json';
  throw sourceError(file, '', 0, `cannot tell the format from "${extension || 'no extension'}"`, {
    expected: 'a file ending in .toml, .yaml, .yml or .json',
  });
}

/**
 * Reads a scenario document. A syntax error, a duplicate key or nesting past 64 levels is
 * FL_ERR_CONFIG naming `file:line:column`. Positions are by field path as validation errors name fields:
 * `experiment.name`, `faults[1].latencyMs`.
 */
export function readDocument(
  file: string,
  text: string,
  format: DocumentFormat = formatOf(file),
): SourceDocument {
  const positions = new Map<string, SourcePosition>();
  const value =
    format === 'toml'
      ? readToml(file, text, positions)
      : format === 'yaml'
        ? readYaml(file, text, positions)
        : readJsonDocument(file, text, positions);
  return { file, text, format, value, positions };
}

function readJsonDocument(file: string, text: string, positions: Map<string, SourcePosition>): unknown {
  return readJson(text, {
    maxDepth,
    duplicateKeys: 'error',
    byteOrderMark: true,
    positions,
    rootPath: '',
    textName: 'file',
    error: (problem) =>
      sourceError(file, text, problem.offset, `invalid JSON: ${problem.message}`, {
        ...(problem.path ? { field: problem.path } : {}),
        expected: problem.expected,
      }),
  });
}

function readToml(file: string, text: string, positions: Map<string, SourcePosition>): unknown {
  let program: AST.TOMLProgram;
  let value: unknown;
  try {
    program = parseTOML(text);
    value = getStaticTOMLValue(program);
  } catch (error) {
    const { index, message } = error as { index?: number; message?: string };
    throw sourceError(file, text, index ?? 0, `invalid TOML: ${message ?? String(error)}`);
  }
  // Depth first, so that recording positions (recursive) never meets a pathological nesting.
  checkDepth(file, text, value);
  for (const top of program.body) {
    for (const item of top.body) {
      if (item.type === 'TOMLKeyValue') recordPair(item, [], positions);
      else {
        const base = item.resolvedKey;
        positions.set(pathOf(base), { value: item.range[0], key: item.key.range[0] });
        for (const pair of item.body) recordPair(pair, base, positions);
      }
    }
  }
  return value;
}

/** Records `key = value` (dotted keys name their implied tables too) and what its value holds. */
function recordPair(
  pair: AST.TOMLKeyValue,
  base: readonly (string | number)[],
  positions: Map<string, SourcePosition>,
): void {
  const keys = pair.key.keys.map((key) => (key.type === 'TOMLBare' ? key.name : key.value));
  for (let i = 1; i < keys.length; i++) {
    const implied = pathOf([...base, ...keys.slice(0, i)]);
    if (!positions.has(implied)) positions.set(implied, { value: pair.range[0], key: pair.key.range[0] });
  }
  const path = [...base, ...keys];
  positions.set(pathOf(path), { value: pair.value.range[0], key: pair.key.range[0] });
  recordTomlValue(pair.value, path, positions);
}

function recordTomlValue(
  node: AST.TOMLContentNode,
  path: readonly (string | number)[],
  positions: Map<string, SourcePosition>,
): void {
  if (node.type === 'TOMLArray') {
    for (const [index, element] of node.elements.entries()) {
      positions.set(pathOf([...path, index]), { value: element.range[0] });
      recordTomlValue(element, [...path, index], positions);
    }
  } else if (node.type === 'TOMLInlineTable') {
    for (const pair of node.body) recordPair(pair, path, positions);
  }
}

function readYaml(file: string, text: string, positions: Map<string, SourcePosition>): unknown {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const [problem] = document.errors;
  if (problem !== undefined) {
    throw sourceError(file, text, problem.pos[0], `invalid YAML: ${problem.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount });
  } catch (error) {
    throw sourceError(file, text, 0, `invalid YAML: ${(error as Error).message}`, {
      expected: `at most ${maxAliasCount} alias expansions`,
    });
  }
  checkDepth(file, text, value);
  if (document.contents !== null) recordYaml(document.contents, [], positions);
  return value;
}

function recordYaml(
  node: YamlNode,
  path: readonly (string | number)[],
  positions: Map<string, SourcePosition>,
): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyAt = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      const valueNode = pair.value as YamlNode | null;
      const at = valueNode?.range?.[0] ?? keyAt ?? 0;
      positions.set(pathOf([...path, key]), keyAt === undefined ? { value: at } : { value: at, key: keyAt });
      if (valueNode !== null) recordYaml(valueNode, [...path, key], positions);
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const element = item as YamlNode;
      positions.set(pathOf([...path, index]), { value: element.range?.[0] ?? 0 });
      recordYaml(element, [...path, index], positions);
    }
  }
}

/** `['faults', 1, 'latencyMs']` → `faults[1].latencyMs`, as validation errors name fields. */
function pathOf(parts: readonly (string | number)[]): string {
  let path = '';
  for (const part of parts) {
    if (typeof part === 'number') path += `[${part}]`;
    else path += path === '' ? part : `.${part}`;
  }
  return path;
}

/** Refuses values nested deeper than `maxDepth` (TOML and YAML readers build them before we see them). */
function checkDepth(file: string, text: string, value: unknown): void {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: next, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof next !== 'object' || next === null || next instanceof Date) continue;
    if (depth >= maxDepth) {
      throw sourceError(file, text, 0, `nested deeper than ${maxDepth} levels`, {
        expected: `at most ${maxDepth} levels`,
      });
    }
    for (const child of Object.values(next)) stack.push({ value: child, depth: depth + 1 });
  }
}
