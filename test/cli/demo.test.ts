// `faultline demo`: the bundled scenario (scenarios/demo.toml) — the demo key-value store killed mid-run —
// through the real CLI. The buggy variant must be caught losing acknowledged writes; the fixed one must
// pass the very same scenario; neither may leave a process or a temp dir behind. Each run gets its own
// TMPDIR, so "nothing left" is checked exactly: the dir is empty and no process names it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type CliResult, type RunningCli, runCli, startCli } from './run-cli.js';

/** Every TMPDIR made, removed at the end even when a test failed before its own check removed it. */
const made: string[] = [];
after(() => {
  for (const tmp of made) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh TMPDIR for one CLI run; `spawn` starts the CLI with it (the environment is read at spawn). */
function withTmpDir<T>(spawn: () => T): { dir: T; tmp: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'faultline-demo-test-'));
  made.push(tmp);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    return { dir: spawn(), tmp };
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/** Processes whose command line names `text` (the store's argv holds its data dir, in the run's TMPDIR). */
function processesNaming(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // it exited meanwhile
    }
  }
  return pids;
}

/** Nothing of the run is left: no process names its TMPDIR, the run's temp dir is gone. Then removes it. */
function assertCleanedUp(tmp: string, output: string): void {
  try {
    assert.deepEqual(processesNaming(tmp), [], `processes left:\n${output}`);
    // The Ledger's journal dirs (faultline-state-<uid>/…) may stay; the journals in them may not.
    const left = readdirSync(tmp, { recursive: true, withFileTypes: true })
      .filter(
        (entry) => !(entry.isDirectory() && /faultline-state-/.test(join(entry.parentPath, entry.name))),
      )
      .map((entry) => join(entry.parentPath, entry.name));
    assert.deepEqual(left, [], `left in ${tmp}:\n${output}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function lines(result: CliResult): string {
  return `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
}

describe('faultline demo', () => {
  it('finds the buggy store losing acknowledged writes, names them, exits 1, and cleans up', async () => {
    const started = performance.now();
    const { dir: pending, tmp } = withTmpDir(() => runCli(['demo', '--seed', '7'], 60_000));
    const result = await pending;
    const elapsedMs = performance.now() - started;
    assert.equal(result.code, 1, lines(result));
    const out = result.stdout;
    assert.match(
      out.split('\n')[0] as string,
      /^faultline demo: seed 7 \(replay with faultline demo --seed 7\)$/,
    );
    assert.match(out, /^faultline demo: scenario \S+\/scenarios\/demo\.toml, the buggy store$/m);
    assert.match(
      out,
      /run it yourself: FAULTLINE_DEMO_SERVICE=\S+kv-service\.js FAULTLINE_DEMO_VARIANT=buggy faultline run --seed 7 \S+demo\.toml$/m,
    );
    assert.match(out, /target kv \(process\) up pid \d+/);
    assert.match(out, /kill -SIGKILL kv \(pid \d+\)/);
    assert.match(out, /kv answers again \(restarted by its restart policy\), down for \S+$/m);
    assert.match(out, /verdict: FAIL — the buggy store broke its promise/);
    assert.match(out, /acked-writes: INVALID — [1-9]\d* of \d+ acknowledged writes were lost/);
    assert.match(
      out,
      /^ {4}\S+-kv-c\d+-\d+ = \d+, acknowledged at \S+, \S+ before process\.kill \(at \S+\)$/m,
    );
    // Under heavy load the store may also lose writes sent after the kill (its restart's own flush window).
    assert.match(
      out,
      /every lost write was acknowledged within \S+ before process\.kill|lost write\(s\) were sent after the last fault/,
    );
    assert.match(
      out,
      /linearizability \(kv model\): INVALID — not linearizable in partition "\S+-kv-c\d+-\d+"/,
    );
    assert.doesNotMatch(out, /failed-present|unexpected/);
    assert.match(out, /replay with faultline demo --seed 7$/m);
    assert.equal(result.stderr, '');
    assert.ok(elapsedMs < 30_000, `took ${elapsedMs} ms`);
    assertCleanedUp(tmp, out);
  });

  it('--fixed passes the same scenario, exits 0, and cleans up', async () => {
    const { dir: pending, tmp } = withTmpDir(() => runCli(['demo', '--fixed', '--seed', '7'], 60_000));
    const result = await pending;
    assert.equal(result.code, 0, lines(result));
    const out = result.stdout;
    assert.match(out, /^faultline demo: seed 7 \(replay with faultline demo --fixed --seed 7\)$/m);
    assert.match(out, /scenario \S+demo\.toml, the fixed store$/m);
    assert.match(out, /kill -SIGKILL kv \(pid \d+\)/);
    assert.match(out, /verdict: PASS — no acknowledged write was lost and the history is linearizable/);
    assert.match(out, /acked-writes: valid — all \d+ acknowledged writes were read back/);
    assert.match(out, /linearizability \(kv model\): valid — \d+ operations on \d+ keys/);
    assert.equal(result.stderr, '');
    assertCleanedUp(tmp, out);
  });

  it('SIGINT mid-run (right after the kill) stops the service and removes its data', async () => {
    const { dir: cli, tmp } = withTmpDir((): RunningCli => startCli(['demo', '--seed', '3']));
    try {
      await cli.waitFor(/kill -SIGKILL kv/, 20_000); // while the store restarts: the hardest moment to clean up
      cli.process.kill('SIGINT');
      const [code, signal] = (await once(cli.process, 'close')) as [number | null, NodeJS.Signals | null];
      assert.equal(code, 130, `exit ${code} ${signal}\n${cli.stdout()}\n${cli.stderr()}`);
      assert.match(cli.stdout(), /interrupted: stopping the service and removing its data\n$/);
      assertCleanedUp(tmp, cli.stdout());
    } finally {
      cli.kill();
      rmSync(tmp, { recursive: true, force: true });
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
      /^faultline demo: error: .*ENOENT.*\/nonexistent-faultline-tmp\/faultline-run-/,
    );
  });

  it('--help documents it; a bad --seed is a usage error', async () => {
    const help = await runCli(['demo', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: faultline demo \[--fixed\] \[--seed N\]/);
    assert.match(help.stdout, /--fixed/);
    assert.match(help.stdout, /scenarios\/demo\.toml/);
    const main = await runCli(['--help']);
    assert.match(main.stdout, /^ {2}demo {8}/m);
    const bad = await runCli(['demo', '--seed', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--seed: expected an integer/);
    assert.match(bad.stderr, /Usage: faultline demo/);
  });
});
