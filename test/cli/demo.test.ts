// `faultline demo`: the bundled key-value store, killed mid-run, through the real CLI. The buggy variant
// must be caught losing acknowledged writes; the fixed one must pass the very same scenario; neither may
// leave a process or a temp dir behind.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pidAlive } from '../support/ports.js';
import { type CliResult, runCli, startCli } from './run-cli.js';

/** The service pids and the data dir the run printed; asserts none of them is left. */
function assertCleanedUp(output: string): void {
  const pids = [...output.matchAll(/\(pid (\d+)\)/g)].map((match) => Number(match[1]));
  assert.ok(pids.length >= 1, output);
  for (const pid of pids) assert.equal(pidAlive(pid), false, `service pid ${pid} still running`);
  const dataDir = /data in (\S+)/.exec(output)?.[1];
  assert.ok(dataDir?.includes('faultline-demo-'), output);
  assert.equal(existsSync(dataDir as string), false, `${dataDir} left behind`);
}

function lines(result: CliResult): string {
  return `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
}

describe('faultline demo', () => {
  it('finds the buggy store losing acknowledged writes, names them, exits 1, and cleans up', async () => {
    const started = performance.now();
    const result = await runCli(['demo', '--seed', '7'], 60_000);
    const elapsedMs = performance.now() - started;
    assert.equal(result.code, 1, lines(result));
    const out = result.stdout;
    assert.match(
      out.split('\n')[0] as string,
      /^faultline demo: seed 7 \(replay with faultline demo --seed 7\)$/,
    );
    assert.match(out, /started the buggy kv service \(pid \d+\)/);
    assert.match(out, /SIGKILL kv \(pid \d+\)/);
    assert.match(out, /kv restarted by its restart policy \(pid \d+\)/);
    assert.match(out, /verdict: FAIL — the buggy store broke its promise/);
    assert.match(out, /acked-writes: INVALID — [1-9]\d* of \d+ acknowledged writes were lost/);
    assert.match(out, /^ {4}c\d+-\d+ = \d+, acknowledged at \S+, \S+ before the kill$/m);
    assert.match(out, /every lost write was acknowledged within \S+ before the kill/);
    assert.match(out, /linearizability \(kv model\): INVALID — not linearizable in partition "c\d+-\d+"/);
    assert.doesNotMatch(out, /failed-present|unexpected/);
    assert.match(out, /replay with faultline demo --seed 7$/m);
    assert.equal(result.stderr, '');
    assert.ok(elapsedMs < 30_000, `took ${elapsedMs} ms`);
    assertCleanedUp(out);
  });

  it('--fixed passes the same scenario, exits 0, and cleans up', async () => {
    const result = await runCli(['demo', '--fixed', '--seed', '7'], 60_000);
    assert.equal(result.code, 0, lines(result));
    const out = result.stdout;
    assert.match(out, /^faultline demo: seed 7 \(replay with faultline demo --fixed --seed 7\)$/m);
    assert.match(out, /started the fixed kv service/);
    assert.match(out, /SIGKILL kv \(pid \d+\)/);
    assert.match(out, /verdict: PASS — no acknowledged write was lost and the history is linearizable/);
    assert.match(out, /acked-writes: valid — all \d+ acknowledged writes survived the kill/);
    assert.match(out, /linearizability \(kv model\): valid — \d+ operations on \d+ keys/);
    assert.equal(result.stderr, '');
    assertCleanedUp(out);
  });

  it('SIGINT mid-run (during the restart) stops the service and removes the data dir', async () => {
    const cli = startCli(['demo', '--seed', '3']);
    try {
      await cli.waitFor(/SIGKILL kv/, 20_000); // while the store restarts: the hardest moment to clean up
      cli.process.kill('SIGINT');
      const [code, signal] = (await once(cli.process, 'close')) as [number | null, NodeJS.Signals | null];
      assert.ok(signal === 'SIGINT' || code !== 0, `exit ${code} ${signal}`);
      assert.match(cli.stdout(), /interrupted: stopping the service and removing its data\n$/);
      assertCleanedUp(cli.stdout());
    } finally {
      cli.kill();
    }
  });

  it('an error exits 2 with a message naming what failed', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent-faultline-tmp';
    const pending = runCli(['demo', '--seed', '1']); // spawned now, with this environment
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    const result = await pending;
    assert.equal(result.code, 2, lines(result));
    assert.match(
      result.stderr,
      /^faultline demo: error: cannot create the store's data dir in \/nonexistent-faultline-tmp \(TMPDIR\): ENOENT/,
    );
  });

  it('--help documents it; a bad --seed is a usage error', async () => {
    const help = await runCli(['demo', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: faultline demo \[--fixed\] \[--seed N\]/);
    assert.match(help.stdout, /--fixed/);
    const main = await runCli(['--help']);
    assert.match(main.stdout, /^ {2}demo {8}/m);
    const bad = await runCli(['demo', '--seed', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--seed: expected an integer/);
    assert.match(bad.stderr, /Usage: faultline demo/);
  });
});
