import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  findJournals,
  findJournalTemps,
  Journal,
  type JournalFile,
  runsDir,
} from '../../src/core/journal.js';
import { Ledger } from '../../src/core/ledger.js';
import { readProcStat } from '../../src/os/index.js';

const stateDir = mkdtempSync(join(tmpdir(), 'faultline-journal-test-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

function readJournal(journal: Journal): JournalFile {
  return JSON.parse(readFileSync(journal.path, 'utf8')) as JournalFile;
}

describe('Journal', () => {
  it('names its file after the run (pid and start time) and writes every add and remove at once', () => {
    const journal = Journal.open({ stateDir });
    const startTime = readProcStat(process.pid)?.startTime;
    assert.match(journal.path, new RegExp(`/runs/${process.pid}-${startTime}(-\\d+)?\\.json$`));
    const a = journal.add({ kind: 'file', path: '/tmp/.faultline-a' });
    const b = journal.add({ kind: 'stopped-process', pid: 77, startTime: 5 });
    let file = readJournal(journal);
    assert.equal(file.pid, process.pid);
    assert.equal(file.startTime, startTime);
    assert.deepEqual(
      file.records.map((r) => [r.id, r.kind]),
      [
        [a, 'file'],
        [b, 'stopped-process'],
      ],
    );
    journal.remove(a);
    journal.remove(a);
    file = readJournal(journal);
    assert.deepEqual(
      file.records.map((r) => r.id),
      [b],
    );
    // Atomic writes leave no temp file behind.
    assert.deepEqual(
      readdirSync(join(stateDir, 'runs')).filter((name) => name.endsWith('.tmp')),
      [],
    );
    journal.remove(b);
    journal.close();
    assert.equal(existsSync(journal.path), false, 'an empty journal is deleted on close');
  });

  it('keeps a journal that still owes something when closed, and findJournals reads it back', () => {
    const journal = Journal.open({ stateDir });
    journal.add({ kind: 'file', path: '/tmp/.faultline-kept' });
    journal.close();
    assert.equal(existsSync(journal.path), true);
    const found = findJournals(stateDir).find((j) => j.path === journal.path);
    assert.equal(found?.pid, process.pid);
    assert.deepEqual(
      found?.content?.records.map((r) => r.kind),
      ['file'],
    );
    rmSync(journal.path);
  });

  it('refuses records past its bound, naming it', () => {
    const journal = Journal.open({ stateDir, maxRecords: 2 });
    journal.add({ kind: 'file', path: '/tmp/.faultline-1' });
    journal.add({ kind: 'file', path: '/tmp/.faultline-2' });
    assert.throws(() => journal.add({ kind: 'file', path: '/tmp/.faultline-3' }), {
      code: 'FL_ERR_UNAVAILABLE',
      message: /holds 2 records/,
    });
    assert.equal(readJournal(journal).records.length, 2);
    for (const record of journal.list()) journal.remove(record.id);
    journal.close();
    assert.equal(existsSync(journal.path), false);
  });
});

describe('Ledger with a journal', () => {
  it('records residues on push and forgets them when the heal succeeds', async () => {
    const journal = Journal.open({ stateDir });
    const ledger = new Ledger({ handleSignals: false, journal });
    const entry = ledger.push('pause', () => {}, { kind: 'stopped-process', pid: 1234, startTime: 9 });
    ledger.push('fill', () => {}, [
      { kind: 'file', path: '/tmp/.faultline-fill-x' },
      { kind: 'process-group', pid: 99, pgid: 99, startTime: 3 },
    ]);
    ledger.push('no residue', () => {});
    assert.deepEqual(
      readJournal(journal).records.map((r) => r.kind),
      ['stopped-process', 'file', 'process-group'],
    );
    await entry.heal();
    assert.deepEqual(
      readJournal(journal).records.map((r) => r.kind),
      ['file', 'process-group'],
    );
    await ledger.close();
    assert.equal(journal.size, 0);
    journal.close();
    assert.equal(existsSync(journal.path), false);
  });

  it('keeps the residue of a heal that failed, for cleanup', async () => {
    const journal = Journal.open({ stateDir });
    const ledger = new Ledger({ handleSignals: false, journal });
    ledger.push(
      'stubborn',
      () => {
        throw new Error('cannot heal');
      },
      { kind: 'file', path: '/tmp/.faultline-stubborn' },
    );
    await assert.rejects(ledger.close(), /cannot heal/);
    assert.deepEqual(
      journal.list().map((r) => r.kind),
      ['file'],
    );
    journal.close();
    assert.equal(existsSync(journal.path), true);
    rmSync(journal.path);
  });
});

describe('the process journal', () => {
  it('is where a Ledger given no journal records residue, from the first record until it is healed', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'faultline-process-journal-'));
    after(() => rmSync(stateDir, { recursive: true, force: true }));
    const ledger = new URL('../../src/core/ledger.js', import.meta.url).href;
    const script = `
      import { readdirSync } from 'node:fs';
      import { Ledger } from ${JSON.stringify(ledger)};
      const runs = () => { try { return readdirSync(${JSON.stringify(join(stateDir, 'runs'))}).length; } catch { return 0; } };
      const before = runs();
      const entry = new Ledger().push('a file', () => {}, { kind: 'file', path: '/nonexistent/.faultline-x' });
      const during = runs();
      await entry.heal();
      const offLedger = new Ledger({ journal: false }).push('not recorded', () => {}, { kind: 'file', path: '/x' });
      console.log(JSON.stringify({ before, during, after: runs(), off: runs() }));
      await offLedger.heal();
    `;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, FAULTLINE_STATE_DIR: stateDir },
      encoding: 'utf8',
    });
    assert.deepEqual(JSON.parse(output), { before: 0, during: 1, after: 0, off: 0 });
  });
});

describe('runsDir', () => {
  const refusal = (pattern: RegExp) => ({ code: 'FL_ERR_PERMISSION', message: pattern });

  it('refuses a symlinked state dir before creating anything inside it', () => {
    const base = mkdtempSync(join(tmpdir(), 'faultline-statedir-'));
    try {
      const target = join(base, 'elsewhere');
      mkdirSync(target, { mode: 0o700 });
      const link = join(base, 'state');
      symlinkSync(target, link);
      assert.throws(() => Journal.open({ stateDir: link }), { code: 'FL_ERR_PERMISSION' });
      assert.deepEqual(readdirSync(target), [], 'nothing was created through the symlink');
      assert.throws(() => runsDir(link), refusal(/state directory .*state is a symbolic link/));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('refuses a symlinked runs dir, a file, and (as root) another user’s directory', () => {
    const base = mkdtempSync(join(tmpdir(), 'faultline-statedir-'));
    try {
      const target = join(base, 'elsewhere');
      mkdirSync(target, { mode: 0o700 });
      const state = join(base, 'state');
      mkdirSync(state, { mode: 0o700 });
      symlinkSync(target, join(state, 'runs'));
      assert.throws(() => Journal.open({ stateDir: state }), { code: 'FL_ERR_PERMISSION' });
      assert.deepEqual(readdirSync(target), [], 'no journal was written through the symlink');
      assert.throws(() => runsDir(state), refusal(/runs is a symbolic link/));

      const file = join(base, 'file');
      writeFileSync(file, '');
      assert.throws(() => runsDir(file), refusal(/is not a directory/));

      if (process.getuid?.() === 0) {
        const foreign = join(base, 'foreign');
        mkdirSync(foreign, { mode: 0o700 });
        chownSync(foreign, 54321, 54321);
        assert.throws(() => runsDir(foreign), refusal(/is owned by uid 54321, not 0/));
        assert.deepEqual(readdirSync(foreign), []);
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('findJournals and findJournalTemps refuse a symlinked or foreign state or runs dir, and read a missing one as empty', () => {
    const base = mkdtempSync(join(tmpdir(), 'faultline-statedir-'));
    try {
      // Someone else's directory, holding a journal and a temp file, reached through a symlink.
      const target = join(base, 'elsewhere');
      mkdirSync(target, { mode: 0o700 });
      const planted = ['1-2.json', '1-2.json.1.tmp'];
      writeFileSync(join(target, planted[0] as string), '{}');
      writeFileSync(join(target, planted[1] as string), '{}');
      const state = join(base, 'state');
      mkdirSync(state, { mode: 0o700 });
      symlinkSync(target, join(state, 'runs'));
      assert.throws(() => findJournals(state), refusal(/runs is a symbolic link/));
      assert.throws(() => findJournalTemps(state), refusal(/runs is a symbolic link/));
      const linkedState = join(base, 'linked-state');
      symlinkSync(state, linkedState);
      assert.throws(() => findJournals(linkedState), refusal(/linked-state is a symbolic link/));
      assert.throws(() => findJournalTemps(linkedState), refusal(/linked-state is a symbolic link/));
      const file = join(base, 'file');
      writeFileSync(file, '');
      assert.throws(() => findJournals(file), refusal(/is not a directory/));
      assert.deepEqual(readdirSync(target).sort(), planted, 'nothing read or changed there');

      if (process.getuid?.() === 0) {
        const foreign = join(base, 'foreign');
        mkdirSync(join(foreign, 'runs'), { recursive: true, mode: 0o700 });
        chownSync(join(foreign, 'runs'), 54321, 54321);
        assert.throws(() => findJournals(foreign), refusal(/is owned by uid 54321, not 0/));
        assert.throws(() => findJournalTemps(foreign), refusal(/is owned by uid 54321, not 0/));
      }

      // Missing: empty, and nothing is created.
      const missing = join(base, 'missing');
      assert.deepEqual(findJournals(missing), []);
      assert.deepEqual(findJournalTemps(missing), []);
      assert.equal(existsSync(missing), false);
      mkdirSync(missing, { mode: 0o700 });
      assert.deepEqual(findJournals(missing), []);
      assert.deepEqual(findJournalTemps(missing), []);
      assert.deepEqual(readdirSync(missing), []);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('creates a missing state dir and its runs dir private to this user', () => {
    const base = mkdtempSync(join(tmpdir(), 'faultline-statedir-'));
    try {
      const state = join(base, 'a', 'b');
      const dir = runsDir(state);
      assert.equal(dir, join(state, 'runs'));
      assert.equal(lstatSync(state).mode & 0o777, 0o700);
      assert.equal(lstatSync(dir).mode & 0o777, 0o700);
      assert.equal(runsDir(state), dir, 'idempotent');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
