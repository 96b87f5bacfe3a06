// Bad input only a run can find — a target that does not start, a ready probe that never passes, a port in
// use, a workload module that throws — through `faultline run`: the verdict ERROR (exit 2) names the file
// and the field, no fault is left applied and nothing is left running or on disk.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { findFaultCgroups, isAlive } from '../../src/os/index.js';
import { type CliResult, runCli } from '../cli/run-cli.js';
import { freePort } from '../support/ports.js';

const root = mkdtempSync(join(tmpdir(), 'faultline-bad-runtime-test-'));
const seen: number[] = [];
after(() => {
  for (const pid of seen) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const node = JSON.stringify(process.execPath);
const sleeper = `argv = [${node}, "-e", "setInterval(() => {}, 1000)"]`;

interface Outcome extends CliResult {
  readonly file: string;
  readonly dir: string;
}

/** Writes `files` (the scenario as bad.toml) into a fresh dir and runs it with its own TMPDIR and state dir. */
async function run(name: string, scenario: string, files: Record<string, string> = {}): Promise<Outcome> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const file = join(dir, 'bad.toml');
  writeFileSync(file, `[experiment]\nname = "${name}"\nseed = 1\ntimeLimit = "60s"\n\n${scenario}`);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  const result = await runCli(['run', '--journal', join(dir, 'events.jsonl'), file], 60_000, {
    cwd: dir,
    env: { TMPDIR: join(dir, 'tmp'), FAULTLINE_STATE_DIR: join(dir, 'state') },
  });
  for (const match of result.stdout.matchAll(/up pid (\d+)/g)) seen.push(Number(match[1]));
  return { ...result, file, dir };
}

/** ERROR, exit 2, the verdict line naming the file and `reason`; nothing left. */
async function assertRefused(outcome: Outcome, reason: RegExp): Promise<void> {
  const output = `${outcome.stdout}\n${outcome.stderr}`;
  assert.equal(outcome.code, 2, output);
  const verdict = new RegExp(
    `^${outcome.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ERROR — ${reason.source}`,
    'm',
  );
  assert.match(outcome.stdout, verdict);
  await assertNothingLeft(outcome);
}

async function assertNothingLeft(outcome: Outcome): Promise<void> {
  for (const pid of outcome.stdout.matchAll(/up pid (\d+)/g)) {
    assert.equal(isAlive(Number(pid[1])), false, `target pid ${pid[1]} left running`);
  }
  // Heals share their injection's id (the Ledger's); targets and the run dir are healed too, without one.
  const events = journal(outcome);
  const healed = new Set(events.filter((e) => e.type === 'fault.heal').map((e) => e.id));
  const unhealed = events.filter((e) => e.type === 'fault.inject' && !healed.has(e.id));
  assert.deepEqual(unhealed, [], 'every fault injected was healed');
  assert.deepEqual(readdirSync(join(outcome.dir, 'tmp')), [], 'temp files left');
  const runs = join(outcome.dir, 'state', 'runs');
  assert.deepEqual(existsSync(runs) ? readdirSync(runs) : [], [], 'journal left');
  const cgroups = (await findFaultCgroups()).filter((path) => /\/faultline-\d+-/.test(path));
  const ours = cgroups.filter((path) => seen.some((pid) => path.includes(`/faultline-${pid}-`)));
  assert.deepEqual(ours, [], 'cgroups left');
}

function journal(outcome: Outcome): { type: string; id?: number; op?: { type?: string; error?: string } }[] {
  const path = join(outcome.dir, 'events.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string });
}

/** A fault in force from the start of the method, so a failure during it has something to heal. */
const pauseFault = `[targets.app]\ntype = "process"\n${sleeper}\n\n[[faults]]\nkind = "process.pause"\nparams = { target = "app" }\n`;

describe('bad input found at run time', () => {
  it('a target whose program does not exist: targets.NAME.argv', async () => {
    const outcome = await run(
      'no-program',
      `[targets.app]\ntype = "process"\n${sleeper}\n\n[targets.db]\ntype = "process"\nargv = ["/nonexistent/faultline-nothing", "--port", "1"]\n`,
    );
    await assertRefused(outcome, /targets\.db\.argv\[0\]: cannot start target "db": .*not found/);
    assert.match(outcome.stdout, /target app \(process\) up pid \d+/, 'the target before it had started');
  });

  it('a target that exits at once, before its ready probe passes: targets.NAME', async () => {
    const outcome = await run(
      'exits',
      `[targets.db]\ntype = "process"\nargv = [${node}, "-e", "process.exit(3)"]\nready = { type = "tcp", address = "127.0.0.1:1" }\n`,
    );
    await assertRefused(outcome, /targets\.db: target "db" exited with code 3 before it was ready/);
  });

  it('a target without a ready probe that is gone by the end of setup: targets.NAME', async () => {
    const outcome = await run(
      'gone',
      `[targets.db]\ntype = "process"\nargv = [${node}, "-e", "process.exit(4)"]\n\n[targets.app]\ntype = "process"\n${sleeper}\nready = { type = "command", argv = ["sleep", "0.5"] }\n`,
    );
    await assertRefused(
      outcome,
      /targets\.db: exited \(code 4\) before the method started; a target must keep running/,
    );
  });

  it('a ready probe that never passes: targets.NAME.ready, the target stopped', async () => {
    const port = await freePort();
    const outcome = await run(
      'never-ready',
      `[targets.db]\ntype = "process"\n${sleeper}\nready = { type = "tcp", address = "127.0.0.1:${port}" }\nreadyTimeout = "1s"\n`,
    );
    await assertRefused(outcome, /targets\.db\.ready: target "db" never became ready .*; it was stopped/);
  });

  it('a proxy whose listen port is in use: targets.NAME.listen', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const outcome = await run(
        'port-in-use',
        `${pauseFault}\n[targets.front]\ntype = "tcp-proxy"\nlisten = "127.0.0.1:${port}"\nupstream = "127.0.0.1:1"\n`,
      );
      await assertRefused(outcome, /targets\.front\.listen: .*address already in use/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a fault that cannot be injected: faults[N] and why; the run is an error, not a pass', async () => {
    const outcome = await run(
      'not-injected',
      `${pauseFault}\n[targets.net]\ntype = "network"\nprotocol = "tcp"\nnodes = { n1 = { address = "127.0.0.1:1" }, n2 = { address = "127.0.0.1:2" } }\n\n[[faults]]\nkind = "net.impair"\nparams = { network = "net", impairments = "loss-30" }\n`,
    );
    await assertRefused(outcome, /faults\[1\]: net\.impair: .*a TCP network has no loss/);
  });

  it('a workload module that throws when loaded: workload.path (relative to the scenario file)', async () => {
    const outcome = await run(
      'module-load',
      `${pauseFault}\n[workload]\ntype = "module"\npath = "client.mjs"\n`,
      { 'client.mjs': 'throw new Error("boom at load");\n' },
    );
    await assertRefused(outcome, /workload\.path: (\S*\/)?client\.mjs: cannot import it: boom at load/);
  });

  it('a workload module whose generate throws: workload.path; the fault in force is healed', async () => {
    const outcome = await run(
      'module-generate',
      `${pauseFault}\n[workload]\ntype = "module"\npath = "client.mjs"\n`,
      {
        'client.mjs':
          'export const client = { ops: 5, generate() { throw new Error("boom in generate"); }, async invoke() {} };\n',
      },
    );
    await assertRefused(
      outcome,
      /workload\.path: (\S*\/)?client\.mjs: client\.generate threw: boom in generate/,
    );
  });

  it('a workload module whose calls throw: each call recorded as info, the run completes, nothing left', async () => {
    const outcome = await run(
      'module-invoke',
      `${pauseFault}\n[workload]\ntype = "module"\npath = "client.mjs"\n`,
      {
        'client.mjs':
          'export const client = { ops: 4, clients: 1, generate({ n }) { return { f: "write", value: n }; }, async invoke() { throw new Error("boom in invoke"); } };\n',
      },
    );
    assert.equal(outcome.code, 0, `${outcome.stdout}\n${outcome.stderr}`);
    const infos = journal(outcome).filter((e) => e.type === 'op' && e.op?.type === 'info');
    assert.equal(infos.length, 4, JSON.stringify(infos));
    assert.match(JSON.stringify(infos[0]), /boom in invoke/);
    await assertNothingLeft(outcome);
  });
});
