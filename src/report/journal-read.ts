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
export function readJournal(path: string): JournalRecord[] {
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
    let record: unknown;
    try {
      record = JSON.parse(source);
    } catch (error) {
      const truncated = end === text.length ? ' (the last line is cut short: was the file truncated?)' : '';
      throw corrupt(file, line, `not JSON: ${messageOf(error)}${truncated}`);
    }
    const type = (record as { type?: unknown } | null)?.type;
    if (line === 1 && type !== 'journal')
      throw corrupt(file, line, 'not a faultline journal: its first line must be the "journal" header');
    if (typeof type !== 'string') throw corrupt(file, line, 'not a journal record: it has no "type"');
    if (!knownTypes.has(type)) {
      records.push(record as JournalRecord);
      continue;
    }
    try {
      // An op line is only looked at for its type: the 100,000 ops of a long run stay cheap to read.
      records.push(type === 'op' ? opRecord(record) : validateJournalRecord(record, 'record'));
    } catch (error) {
      throw corrupt(file, line, messageOf(error), error);
    }
  }
  if (records.length === 0) throw corrupt(file, 1, 'the journal is empty (not even its header)');
  return records;
}

function opRecord(record: unknown): JournalRecord {
  const op = (record as { op?: unknown }).op;
  if (typeof op !== 'object' || op === null || typeof (op as { f?: unknown }).f !== 'string')
    throw new Error('record.op: expected an op object with a string "f"');
  return record as JournalRecord;
}

function corrupt(file: string, line: number, message: string, cause?: unknown): FaultlineError {
  return new FaultlineError(codes.invalidArgument, `${file}:${line}: ${message}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { file, line },
  });
}
