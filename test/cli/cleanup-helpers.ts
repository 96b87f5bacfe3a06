import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journalFormat } from '../../src/core/journal.js';

/**
 * A journal of a run that is gone: this pid, but a start time no process of it has. Records are written
 * as given (ids added), so tests can plant malformed or unknown ones too.
 */
export function fakeDeadJournal(stateDir: string, records: readonly object[]): string {
  const dir = join(stateDir, 'runs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${process.pid}-1.json`);
  const content = {
    format: journalFormat,
    pid: process.pid,
    startTime: 1,
    argv: ['fake'],
    records: records.map((record, index) => ({ ...record, id: index + 1 })),
  };
  writeFileSync(path, JSON.stringify(content));
  return path;
}
