import { codes } from './codes.js';
import { FaultlineError } from './errors.js';

/** Offsets (UTF-16 code units) into a text: of a value, and of its name when it is a member. */
export interface SourcePosition {
  readonly value: number;
  readonly key?: number;
}

/**
 * A file read into a value, with where each value sits, by field path (`faults[0].latencyMs`), so an
 * error about a field can name the file, line and column.
 */
export interface SourceText {
  readonly file: string;
  readonly text: string;
  readonly positions: ReadonlyMap<string, SourcePosition>;
}

/** 1-based line and column (in characters, as editors count them) of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  let line = 1;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) line++;
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line, column: [...before.slice(lineStart)].length + 1 };
}

/** FL_ERR_CONFIG `file:line:column: what`, with the position in the details. */
export function sourceError(
  file: string,
  text: string,
  offset: number,
  what: string,
  details: { field?: string; expected?: string } = {},
): FaultlineError {
  const { where, position } = place(file, text, offset);
  return new FaultlineError(codes.config, `${where}: ${what}`, {
    details: { file, ...position, ...details },
  });
}

/** `file:line:column` of `offset` in `text` (just `file` without one), and that line and column. */
function place(
  file: string,
  text: string,
  offset: number | undefined,
): { where: string; position: { line?: number; column?: number } } {
  if (offset === undefined) return { where: file, position: {} };
  const { line, column } = lineAndColumn(text, offset);
  return { where: `${file}:${line}:${column}`, position: { line, column } };
}

/**
 * Rewrites an error about a field (its `details.field`, e.g. `faults[1].latencyMs`) to name the file and
 * the position of that field — or, for a missing one, of the nearest enclosing value that is in the file.
 * An unknown key is pointed at by its name. Other errors pass through.
 */
export function locateError(source: SourceText, error: unknown): unknown {
  if (!(error instanceof FaultlineError)) return error;
  const field = typeof error.details.field === 'string' ? error.details.field : undefined;
  let offset: number | undefined;
  for (let path = field; path !== undefined && path !== ''; path = parentPath(path)) {
    const position = source.positions.get(path);
    if (position === undefined) continue;
    const unknownKey = path === field && /\bunknown (attribute|key|parameter)\b/.test(error.message);
    offset = unknownKey && position.key !== undefined ? position.key : position.value;
    break;
  }
  // A field missing from the top level has no enclosing value: the document's start is where it belongs
  // (an inline scenario has no text, so no position).
  const { where, position } = place(
    source.file,
    source.text,
    offset ?? (field === undefined || source.text === '' ? undefined : 0),
  );
  const named =
    field === undefined || error.message.startsWith(`${field}:`)
      ? error.message
      : `${field}: ${error.message}`;
  return new FaultlineError(codes.config, `${where}: ${named}`, {
    cause: error,
    details: { ...error.details, file: source.file, ...position },
  });
}

/** `proxies[1].toxics[0]` → `proxies[1].toxics` → `proxies[1]` → `proxies` → undefined. */
function parentPath(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut <= 0 ? undefined : path.slice(0, cut);
}
