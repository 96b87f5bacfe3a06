// `faultline cleanup` publishes one `cleanup` event per residue with its outcome.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup } from '../../src/cli/cleanup-command.js';
import { type EventOf, subscribe } from '../../src/core/events.js';
import { Journal } from '../../src/core/journal.js';
import { fakeDeadJournal } from './cleanup-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-cleanup-events-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function cleanupEvents(
  stateDir: string,
  dryRun = false,
): Promise<{ events: EventOf<'cleanup'>[]; failedRuns: number }> {
  const events: EventOf<'cleanup'>[] = [];
  const stop = subscribe(
    (event) => {
      if (event.type === 'cleanup') events.push(event);
    },
    ['cleanup'],
  );
  try {
    const { failedRuns } = await cleanup({ stateDir, dryRun, print: () => {} });
    return { events, failedRuns };
  } finally {
    stop();
  }
}

describe('cleanup events', () => {
  it('one per residue, newest first: undone, failed (refused, unknown kind), skipped in a dry run', async () => {
    const stateDir = join(root, 'state');
    const ours = join(root, '.faultline-fill-events');
    const alreadyGone = join(root, '.faultline-fill-never-made');
    const notOurs = join(root, 'not-ours.txt');
    writeFileSync(ours, 'x');
    writeFileSync(notOurs, 'x');
    const journal = fakeDeadJournal(stateDir, [
      { kind: 'file', path: ours },
      { kind: 'file', path: alreadyGone },
      { kind: 'file', path: notOurs },
      { kind: 'no-such-kind', what: 1 },
    ]);

    const dry = await cleanupEvents(stateDir, true);
    assert.deepEqual(
      dry.events.map((e) => [e.residue, e.outcome]),
      [
        ['no-such-kind record 4', 'failed'],
        [notOurs, 'failed'],
        [alreadyGone, 'gone'],
        [ours, 'skipped'],
      ],
    );
    assert.ok(existsSync(ours), 'a dry run changes nothing');

    const real = await cleanupEvents(stateDir);
    assert.equal(real.failedRuns, 1);
    assert.deepEqual(
      real.events.map((e) => [e.residue, e.outcome]),
      [
        ['no-such-kind record 4', 'failed'],
        [notOurs, 'failed'],
        [alreadyGone, 'gone'],
        [ours, 'undone'],
      ],
    );
    assert.match(real.events[0]?.detail ?? '', /unknown residue kind "no-such-kind"/);
    assert.match(real.events[1]?.detail ?? '', /not a faultline-owned name/);
    assert.match(real.events[2]?.detail ?? '', /already gone/);
    assert.match(real.events[3]?.detail ?? '', /^removed /);
    assert.equal(existsSync(ours), false);
    assert.ok(existsSync(journal), 'kept for what could not be undone');
    rmSync(journal);
  });

  it("a live run's residues are skipped, not touched", async () => {
    const stateDir = join(root, 'live');
    const file = join(root, '.faultline-live-events');
    writeFileSync(file, 'x');
    const journal = Journal.open({ stateDir });
    const id = journal.add({ kind: 'file', path: file });
    try {
      const { events, failedRuns } = await cleanupEvents(stateDir);
      assert.equal(failedRuns, 0);
      assert.deepEqual(
        events.map((e) => [e.residue, e.outcome]),
        [[file, 'skipped']],
      );
      assert.match(events[0]?.detail ?? '', /is still running/);
      assert.ok(existsSync(file));
    } finally {
      journal.remove(id);
      journal.close();
    }
  });
});
