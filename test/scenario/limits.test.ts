// cgroup limits on process targets: the process (and what it forks) runs in a faultline cgroup from its start —
// the memory limit OOM-kills it past the limit, the pids limit refuses forks past it — the cgroup is journalled
// and removed when the targets are taken down; without permission to make cgroups, a clear error naming the
// field and nothing started.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { cgroupSupport } from '../../src/os/index.js';
import { type LiveTargets, type Scenario, startTargets } from '../../src/scenario/index.js';
import { seenPids } from '../process/helpers.js';

const MiB = 1024 * 1024;
const support = await cgroupSupport();
const usable = (controller: 'memory' | 'pids'): boolean =>
  support.controllers[controller].available && support.controllers[controller].writable;
const skip = usable('memory') && usable('pids') ? false : 'needs writable memory and pids cgroups';

const fixtures = mkdtempSync(join(tmpdir(), 'faultline-limits-test-'));
after(() => rmSync(fixtures, { recursive: true, force: true }));

/** The directory of `pid`'s cgroup holding `controller`, from /proc/PID/cgroup and the mount. */
function cgroupDir(pid: number, controller: 'memory' | 'pids'): string {
  const status = support.controllers[controller];
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((entry) =>
      status.version === 2 ? entry.startsWith('0::') : entry.split(':')[1]?.split(',').includes(controller),
    );
  assert.ok(line !== undefined, `pid ${pid} has a ${controller} cgroup`);
  const path = line.split(':').slice(2).join(':');
  const root = status.mountRoot ?? '/';
  return join(
    status.mountPoint as string,
    root !== '/' && path.startsWith(root) ? path.slice(root.length) : path,
  );
}

/**
 * Waits until `pid` runs `program` (argv[0]): the wrapper that starts a limited target joins the group
 * before it execs the program, so from then on the pid's cgroup is the target's.
 */
async function execd(pid: number, program: string): Promise<void> {
  const argv0 = (): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  for (let i = 0; i < 500 && !argv0().endsWith(program); i++) await realClock.sleep(10);
  assert.ok(argv0().endsWith(program), `pid ${pid} runs ${program}, not ${argv0()}`);
}

const options = (ledger: Ledger) => ({
  ledger,
  clock: realClock,
  random: new Random(7),
  runDir: fixtures,
  log: (line: string) => {
    const pid = /^target \w+ .* pid (\d+)/.exec(line)?.[1];
    if (pid !== undefined) seenPids.add(Number(pid));
  },
});

describe('process targets with cgroup limits', { skip }, () => {
  it('run limited from the start: memory past the limit is OOM-killed, forks past maxTasks fail; the cgroups go at the end', async () => {
    const go = join(fixtures, 'go');
    // Allocates 256 MiB once `go` exists; the limit is 64 MiB.
    const hog = `const held = []; console.log('up');
      const timer = setInterval(() => {
        if (!require('node:fs').existsSync(${JSON.stringify(go)})) return;
        clearInterval(timer);
        for (let i = 0; i < 256; i++) held.push(Buffer.alloc(${MiB}, 1));
        console.log('survived');
      }, 20);`;
    // Forks sleepers until a fork is refused, then says how many it had.
    const forker = `const { spawn } = require('node:child_process'); let n = 0;
      const next = () => {
        const child = spawn('sleep', ['60'], { stdio: 'ignore' });
        child.once('error', (error) => console.log('refused after ' + n + ': ' + error.code));
        child.once('spawn', () => { n++; if (n < 200) next(); else console.log('never refused'); });
      };
      next(); setInterval(() => {}, 1000);`;
    const targets: Scenario['targets'] = {
      hog: {
        type: 'process',
        argv: [process.execPath, '-e', hog],
        ready: { type: 'log', target: 'hog', pattern: '^up$' },
        restart: 'never',
        limits: { memoryMiB: 64 },
      },
      forker: {
        type: 'process',
        argv: [process.execPath, '-e', forker],
        ready: { type: 'log', target: 'forker', pattern: '^(refused|never)' },
        restart: 'never',
        limits: { maxTasks: 40 },
      },
    };
    const ledger = new Ledger();
    let live: LiveTargets | undefined;
    let dirs: string[] = [];
    try {
      live = await startTargets(targets, options(ledger));
      const hogTarget = live.get('hog', 'process').object;
      const forkerTarget = live.get('forker', 'process').object;
      const memoryDir = cgroupDir(hogTarget.pid, 'memory');
      const pidsDir = cgroupDir(forkerTarget.pid, 'pids');
      dirs = [memoryDir, pidsDir];
      assert.match(memoryDir, /\/faultline-\d+-\d+$/);
      assert.match(pidsDir, /\/faultline-\d+-\d+$/);
      const memoryFile = support.controllers.memory.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      assert.equal(readFileSync(join(memoryDir, memoryFile), 'utf8').trim(), String(64 * MiB));
      assert.equal(readFileSync(join(pidsDir, 'pids.max'), 'utf8').trim(), '40');

      const forked = readFileSync(forkerTarget.logFile('stdout'), 'utf8');
      assert.match(forked, /^refused after \d+: EAGAIN/m, 'a fork past maxTasks was refused');
      const current = Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8'));
      assert.ok(current <= 40 && current > 1, `the forked children are in the group too (${current} tasks)`);

      writeFileSync(go, '');
      const exit = await hogTarget.waitForExit();
      assert.equal(exit.signal, 'SIGKILL', `the hog was OOM-killed: ${JSON.stringify(exit)}`);
      assert.doesNotMatch(readFileSync(hogTarget.logFile('stdout'), 'utf8'), /survived/);
    } finally {
      await ledger.close();
    }
    for (const path of dirs) assert.equal(existsSync(path), false, `${path} removed with the targets`);
  });

  it('restarts run in the same cgroup', async () => {
    const ledger = new Ledger();
    try {
      const live = await startTargets(
        {
          app: {
            type: 'process',
            argv: [process.execPath, '-e', "console.log('up'); setInterval(() => {}, 1000)"],
            ready: { type: 'log', target: 'app', pattern: '^up$' },
            restart: 'never',
            limits: { maxTasks: 64 },
          },
        },
        options(ledger),
      );
      const target = live.get('app', 'process').object;
      const before = cgroupDir(target.pid, 'pids');
      await target.restart({ graceMs: 1000 });
      seenPids.add(target.pid);
      // The old run's "up" satisfies the ready probe at once: wait until the new run has exec'd node.
      await execd(target.pid, process.execPath);
      assert.equal(cgroupDir(target.pid, 'pids'), before);
    } finally {
      await ledger.close();
    }
  });

  it('a run SIGKILLed while a limited target runs leaves a journal from which `faultline cleanup` removes the cgroup', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'faultline-limits-crash-'));
    const state = join(folder, 'state');
    const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
    const file = join(folder, 'crash.toml');
    writeFileSync(
      file,
      `[experiment]\nname = "crash"\nduration = "60s"\n[targets.app]\ntype = "process"\nargv = ["sleep", "120"]\nlimits = { memoryMiB = 128, maxTasks = 16 }\n`,
    );
    const run = spawn(process.execPath, [main, 'run', '--no-journal', file], {
      env: { ...process.env, FAULTLINE_STATE_DIR: state },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      run.stdout.setEncoding('utf8').on('data', (text: string) => {
        out += text;
      });
      const pid = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the run never got to its method: ${out}`)), 20_000);
        run.stdout.on('data', () => {
          const up = /target app \(process\) up pid (\d+)/.exec(out);
          if (up !== null && /\bmethod\b/.test(out)) {
            clearTimeout(timer);
            resolve(Number(up[1]));
          }
        });
      });
      seenPids.add(pid);
      await execd(pid, 'sleep');
      const dirs = [cgroupDir(pid, 'memory'), cgroupDir(pid, 'pids')];
      assert.ok(
        dirs.every((dir) => /\/faultline-\d+-\d+$/.test(dir) && existsSync(dir)),
        dirs.join(', '),
      );
      run.kill('SIGKILL');
      await once(run, 'exit');
      const cleanup = spawnSync(process.execPath, [main, 'cleanup', '--state-dir', state], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(cleanup.status, 0, cleanup.stdout + cleanup.stderr);
      assert.match(cleanup.stdout, /removed cgroup .*faultline-/);
      for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} removed by cleanup`);
    } finally {
      if (run.exitCode === null && run.signalCode === null) {
        run.kill('SIGKILL');
        await once(run, 'exit');
      }
      // On a failed assertion too: the journal is undone before the folder holding it goes.
      spawnSync(process.execPath, [main, 'cleanup', '--state-dir', state], { timeout: 30_000 });
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('without permission to make cgroups: an error naming the limits field, nothing started', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run the CLI as another user');
    const folder = mkdtempSync(join(tmpdir(), 'faultline-limits-nobody-'));
    try {
      chmodSync(folder, 0o755);
      // The other user's journal goes in a directory it owns, inside the folder removed at the end.
      const state = join(folder, 'state');
      mkdirSync(state, { mode: 0o700 });
      chownSync(state, 65534, 65534);
      const file = join(folder, 'limited.toml');
      const marker = join(folder, 'started');
      writeFileSync(
        file,
        `[experiment]\nname = "limited"\nduration = "100ms"\n[targets.app]\ntype = "process"\nargv = ["touch", "${marker}"]\nlimits = { memoryMiB = 64 }\n`,
      );
      chmodSync(file, 0o644);
      const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
      const run = spawnSync(process.execPath, [main, 'run', '--no-journal', file], {
        uid: 65534,
        gid: 65534,
        cwd: tmpdir(),
        env: { ...process.env, HOME: folder, FAULTLINE_STATE_DIR: state },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(run.status, 2, run.stdout + run.stderr);
      assert.match(
        run.stdout,
        /ERROR — targets\.app\.limits: cannot run the target in a cgroup with memoryMiB: not permitted/,
      );
      assert.equal(existsSync(marker), false, 'the process never started');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
