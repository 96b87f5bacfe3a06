// Live progress of `faultline run`: the status block as a pure function of the events seen, its bounded
// redraws with log lines scrolling above it, and a real run under a pseudo-terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import {
  applyEvent,
  eraseUp,
  LiveProgress,
  progressState,
  renderProgress,
  sampleRate,
} from '../../src/cli/progress.js';
import { publish } from '../../src/core/events.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { freePort, tcpPortFree } from '../support/ports.js';
import { cliPath } from './run-cli.js';
import { storeScenario } from './store-scenario.js';

const op = (type: string, index: number) =>
  ({ type: 'op', op: { process: 1, type, f: 'write', value: 1, time: index, index } }) as const;

describe('progress block', () => {
  it('shows phase, elapsed, faults in force, ops and ops/s, errors and probe states', () => {
    const state = progressState(1000);
    assert.deepEqual(renderProgress(state, 1000, 120), [
      '── setup · 0.0 s',
      '   faults: none in force',
      '   ops: 0 done · 0/s · errors 0 (fail 0, info 0)',
      '   probes: none yet',
    ]);
    applyEvent(state, { type: 'phase', name: 'method', state: 'start', atMs: 1100 });
    applyEvent(state, {
      type: 'fault.inject',
      id: 7,
      kind: 'tcp.latency',
      label: 'latency on front',
      params: {},
      atMs: 1200,
    });
    applyEvent(state, {
      type: 'fault.inject',
      id: 8,
      kind: 'process.kill',
      label: 'kill kv',
      params: {},
      atMs: 1300,
    });
    applyEvent(state, { type: 'fault.heal', id: 8, label: 'kill kv', atMs: 1400 });
    sampleRate(state, 2000);
    for (let index = 0; index < 30; index++) applyEvent(state, op('invoke', index));
    for (let index = 0; index < 20; index++) applyEvent(state, op('ok', index));
    applyEvent(state, op('fail', 21));
    applyEvent(state, op('info', 22));
    applyEvent(state, { type: 'probe', name: 'health', ok: true, durationMs: 1, atMs: 2500 });
    applyEvent(state, { type: 'probe', name: 'api', ok: false, durationMs: 1, error: 'refused', atMs: 2600 });
    assert.deepEqual(renderProgress(state, 3000, 120), [
      '── method · 2.0 s',
      '   faults: tcp.latency (latency on front)',
      '   ops: 22 done · 22/s · errors 2 (fail 1, info 1)',
      '   probes: health green · api red (refused)',
    ]);
    // Samples older than the 2 s window do not count: the rate is over the recent past.
    assert.match(renderProgress(state, 4500, 120)[2] as string, / 0\/s /);
  });

  it('fits a narrow terminal: every line shorter than the width, cut with an ellipsis', () => {
    const state = progressState(0);
    for (let id = 0; id < 9; id++)
      applyEvent(state, {
        type: 'fault.inject',
        id,
        kind: 'tcp.latency',
        label: `on proxy-${id}`,
        params: {},
        atMs: 0,
      });
    const wide = renderProgress(state, 0, 1000)[1] as string;
    assert.match(wide, /on proxy-5\) · \+3 more$/, 'a long list is cut to six and a count');
    for (const columns of [40, 20, 3]) {
      for (const line of renderProgress(state, 0, columns)) assert.ok(line.length <= columns - 1, line);
    }
    assert.match(renderProgress(state, 0, 20)[1] as string, /…$/);
    assert.equal(eraseUp(4), '\x1b[4F\x1b[J');
  });

  it('redraws in place at most every intervalMs, with log lines scrolling above the block', () => {
    const clock = new VirtualClock();
    const written: string[] = [];
    const progress = new LiveProgress(
      { write: (text: string) => written.push(text), columns: 60 },
      clock,
      100,
    );
    try {
      assert.equal(written.length, 1, 'drawn at once');
      assert.ok(written[0]?.startsWith(`${eraseUp(0)}── setup`), written[0]);
      publish({ type: 'phase', name: 'method', state: 'start', atMs: clock.now() });
      clock.advance(1000);
      assert.equal(written.length, 11, 'ten redraws in a second');
      assert.ok(written.at(-1)?.startsWith(`${eraseUp(4)}── method · 1.0 s\n`), written.at(-1));
      progress.log('+1.000s inject tcp.latency');
      assert.equal(written.at(-2), `${eraseUp(4)}+1.000s inject tcp.latency\n`);
      assert.ok(written.at(-1)?.startsWith(`${eraseUp(0)}── method`), 'the block redrawn below the line');
    } finally {
      progress.stop();
    }
    assert.equal(written.at(-1), '\x1b[4F\x1b[J', 'stop erases the block');
    const count = written.length;
    clock.advance(1000);
    assert.equal(written.length, count, 'no redraw after stop');
  });
});

describe('faultline run on a terminal', () => {
  it('redraws its status block in place under a pseudo-terminal, then prints the verdict', async (t) => {
    const port = await freePort();
    const { dir, file } = await storeScenario(t, port);
    const env = { ...process.env };
    delete env.CI;
    // `script` gives the child a real pty; its output (the terminal's) comes back on script's stdout.
    const command = [process.execPath, cliPath, 'run', '--no-journal', file]
      .map((arg) => `'${arg}'`)
      .join(' ');
    const child = spawn('/usr/bin/script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    t.after(() => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.stderr.resume();
    const [code] = await once(child, 'close');
    assert.equal(code, 0, out);
    const redrawn = `${eraseUp(4)}── `;
    assert.ok(out.includes(redrawn), `the block is redrawn in place: ${JSON.stringify(out.slice(0, 400))}`);
    assert.match(out, /── method · \d+\.\d s/);
    assert.match(out, /\+\d+\.\d{3}s method\r?\n/, 'log lines still scroll');
    assert.match(out, /store\.toml: PASS — every check held/);
    assert.doesNotMatch(out, /journal:/, '--no-journal writes none');
    assert.ok(await tcpPortFree(port), 'the store is stopped');
  });
});
