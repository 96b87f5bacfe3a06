// What the `module` workload records on ok (Jepsen's convention, docs/histories.md "What an ok
// records"): a write its value with the client's reply as `result`, a read (by f, or `read: true` from
// generate) what invoke resolved; a `read` that is not a boolean is an error naming workload.path.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { Random } from '../../src/core/random.js';
import { startWorkload } from '../../src/scenario/index.js';

describe('module workload: what an ok records', () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-workload-recording-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('echoes a write with its reply as result, and records what a read saw', async () => {
    const path = join(dir, 'redis-like.mjs');
    writeFileSync(
      path,
      `let value = null;
export const client = {
  clients: 1, ops: 3, timeoutMs: 1000,
  generate({ n }) {
    return [{ f: 'write', value: 5 }, { f: 'read' }, { f: 'balance', read: true }][n];
  },
  async invoke(f, v) {
    if (f === 'write') { value = v; return 'OK'; }
    return value;
  },
};`,
    );
    const workload = startWorkload(
      { type: 'module', path },
      { clock: realClock, random: new Random(1, 'test') },
    );
    await workload.done;
    const oks = workload.history().filter((op) => op.type === 'ok');
    assert.deepEqual(
      oks.map((op) => [op.f, op.value, op.result]),
      [
        ['write', 5, 'OK'],
        ['read', 5, undefined],
        ['balance', 5, undefined],
      ],
    );
  });

  it('refuses a read that is not true or false, naming workload.path', async () => {
    const path = join(dir, 'bad-read.mjs');
    writeFileSync(
      path,
      "export const client = { generate() { return { f: 'get', read: 'yes' }; }, invoke() {} };",
    );
    const workload = startWorkload(
      { type: 'module', path },
      { clock: realClock, random: new Random(1, 'test') },
    );
    await assert.rejects(workload.done, /workload\.path: .*read: "yes"; expected true or false/);
    await workload.stop();
  });
});
