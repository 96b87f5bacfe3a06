import { readFileSync } from 'node:fs';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { eventChannelNames } from '../core/events.js';
import { type JournalRecord, validateJournalRecord } from './journal.js';

/** The record types of format 1; a newer writer's other types are kept unchecked (a reader skips them). */
const knownTypes = new Set<unknown>(['journal', 'verdict', ...Object.keys(eventChannelNames)]);

/**
 * Reads a journal file written by `faultline run` (docs/journal.md): every line parsed and checked against
 * the record definitions. A corrupt or truncated journal is refused with an error naming its file and line.
 * A journal whose last line is not a `verdict` is a run that did not finish: it is read all the same.
 */
export function readJournalRecords(path: string): JournalRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FaultlineError(codes.notFound, `cannot read the journal ${path}: ${messageOf(error)}`, {
      cause: error,
      details: { path },
    });
  }
  return parseJournal(text, path);
}

/** Parses the text of a journal; `file` names it in errors (`run.jsonl:12: …`). */
export function parseJournal(text: string, file = 'journal'): JournalRecord[] {
  const records: JournalRecord[] = [];
  let start = 0;
  for (let line = 1; start < text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const source = text.slice(start, end);
    start = end + 1;
    if (source.trim() === '') {
      if (start >= text.length) break;
      throw corrupt(file, line, 'an empty line; every line of a journal is one JSON record');
    }
    const { record } = parseJournalLine(source, file, line);
    if (line === 1 && record.type !== 'journal')
      throw corrupt(file, line, 'not a faultline journal: its first line must be the "journal" header');
    records.push(record);
  }
  if (records.length === 0) throw corrupt(file, 1, 'the journal is empty (not even its header)');
  return records;
}

/**
 * One line of a journal: parsed, and checked against its record's definition (an op line by a direct check
 * of its fields: ops are nearly all of a journal). A record type this version does not know (a newer
 * writer's) is returned unchecked, `known: false`. Errors name `file:line` and what is wrong.
 */
export function parseJournalLine(
  source: string,
  file: string,
  line: number,
): { readonly record: JournalRecord; readonly known: boolean } {
  let record: unknown;
  try {
    record = JSON.parse(source);
  } catch (error) {
    const cut = source.startsWith('{') && !source.endsWith('}');
    throw corrupt(
      file,
      line,
      `not a JSON record (${messageOf(error)})${cut ? ' — the line is cut short: was the run killed while writing it?' : ''}`,
    );
  }
  const type = (record as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') throw corrupt(file, line, 'not a journal record: it has no "type"');
  if (!knownTypes.has(type)) return { record: record as JournalRecord, known: false };
  if (plainOp(record)) return { record: record as JournalRecord, known: true };
  try {
    // The validator's field path follows the place: `run.jsonl:5: record.atMs: expected a number`.
    return { record: validateJournalRecord(record, 'record'), known: true };
  } catch (error) {
    throw corrupt(file, line, messageOf(error), error);
  }
}

const opTypes = new Set(['invoke', 'ok', 'fail', 'info']);

/** A well-formed `op` record (the same rules as the journal's op definition, checked directly). */
function plainOp(record: unknown): boolean {
  const { type, op } = record as { type?: unknown; op?: Record<string, unknown> };
  if (type !== 'op' || typeof op !== 'object' || op === null || Array.isArray(op)) return false;
  let keys = 0;
  for (const _ in record as object) keys++;
  const { process, time, index, error } = op;
  return (
    keys === 2 &&
    (typeof process === 'number' || typeof process === 'string') &&
    opTypes.has(op.type as string) &&
    typeof op.f === 'string' &&
    'value' in op &&
    typeof time === 'number' &&
    time >= 0 &&
    Number.isInteger(index) &&
    (index as number) >= 0 &&
    (error === undefined || typeof error === 'string')
  );
}

function corrupt(file: string, line: number, message: string, cause?: unknown): FaultlineError {
  return new FaultlineError(codes.invalidArgument, `${file}:${line}: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { file, line },
  });
}
