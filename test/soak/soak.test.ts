// The short soak, in `npm test`: bench/soak for 5 s with 200 TCP connections at once through every toxic
// (half-closing and interactive clients) and 50 UDP clients through impairments, in child processes of
// their own. Every byte and datagram must be accounted for and the proxies must let go of every
// descriptor. The run is its own process group, killed whole after the test whatever happens; and it
// holds the read end of a pipe from this process (--exit-with-stdin), so if this process dies without
// running `after` (Ctrl-C, a CI timeout's SIGKILL) the soak sees its stdin end and cleans up by itself.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ClientMode, clientModes, type ModeFigures, scenarios } from '../support/soak-scenarios.js';

const soakScript = fileURLToPath(new URL('../../bench/soak/main.js', import.meta.url));

interface Process {
  label: string;
  start: { fds: number };
  end: { fds: number };
  fdsFlat: boolean;
}

interface Report {
  tcp: { figures: Record<string, Record<ClientMode, ModeFigures>>; process: Process; connections: number };
  udp: {
    figures: {
      clients: { clients: number; endpoints: number; sent: number };
      proxy: { counters: { sessions: { opened: number; expired: number } } };
      checks: { what: string; left: number; right: number; relation: string; ok: boolean }[];
      kernel?: { dropped: number };
    };
    process: Process;
  };
  text: string;
}

describe('soak (short): every toxic, half-closing clients, UDP sessions', () => {
  let report: Report | undefined;
  let child: ChildProcess | undefined;
  let stderr = '';
  const dir = mkdtempSync(join(tmpdir(), 'faultline-soak-test-'));

  /** Ends the run's whole process group (the soak and every child it started). */
  const killGroup = async (): Promise<void> => {
    const pid = child?.pid;
    if (pid === undefined) return;
    const alive = (): boolean => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (alive()) process.kill(-pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive()) process.kill(-pid, 'SIGKILL');
  };

  before(async () => {
    const jsonPath = join(dir, 'soak.json');
    const args = [
      soakScript,
      '--duration',
      '5s',
      '--concurrency',
      '200',
      '--phases',
      'tcp,udp',
      '--settle',
      '0s',
      '--json',
      jsonPath,
      '--exit-with-stdin',
    ];
    child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8000);
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the soak did not finish in 90 s:\n${stderr}`)),
        90_000,
      );
      child?.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.ok(code === 0 || code === 1, `the soak failed to run (exit ${code}):\n${stderr}`);
    report = JSON.parse(readFileSync(jsonPath, 'utf8')) as Report;
  });

  after(async () => {
    await killGroup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ran, and left no process of its own behind', () => {
    assert.ok(report, `no report:\n${stderr}`);
    const pid = child?.pid as number;
    assert.throws(() => process.kill(-pid, 0), /ESRCH/, 'a process of the soak outlived it');
    assert.ok(report.tcp.connections >= 200, `only ${report.tcp.connections} TCP connections`);
  });

  for (const scenario of scenarios) {
    for (const mode of clientModes) {
      it(`${scenario.name} ${mode}: ${scenario.expectation}${scenario.preserving ? ', zero lost bytes' : ''}`, () => {
        assert.ok(report, 'no report');
        const figures = report.tcp.figures[scenario.name]?.[mode];
        assert.ok(figures && figures.connections > 0, `no ${mode} connection through ${scenario.name}`);
        assert.equal(figures.lostBytes, 0, `lost bytes; ${figures.examples.join('; ')}`);
        assert.equal(figures.violations, 0, `broken promises: ${figures.examples.join('; ')}`);
      });
    }
  }

  it('UDP: every datagram is delivered or counted as dropped, sessions come and go', () => {
    assert.ok(report, 'no report');
    const { figures } = report.udp;
    assert.ok(figures.clients.clients >= 50, `only ${figures.clients.clients} UDP clients`);
    for (const check of figures.checks)
      assert.ok(
        check.ok,
        `${check.what}: not ${check.left} ${check.relation} ${check.right}\n${report.text}`,
      );
    const { sessions } = figures.proxy.counters;
    // At least one per client address (a port the OS reused within the idle time continues its session),
    // but for clients whose every datagram the kernel dropped before the proxy read it.
    const kernelDropped = figures.kernel?.dropped ?? 0;
    assert.ok(
      sessions.opened >= figures.clients.endpoints - kernelDropped,
      `${sessions.opened} sessions for ${figures.clients.endpoints} client addresses (kernel dropped ${kernelDropped})`,
    );
    assert.equal(sessions.expired, sessions.opened, 'every session expired after the clients left');
  });

  it('the proxies let go of every descriptor once the clients are gone', () => {
    assert.ok(report, 'no report');
    for (const proc of [report.tcp.process, report.udp.process])
      assert.ok(
        proc.fdsFlat,
        `${proc.label}: ${proc.start.fds} descriptors at the start, ${proc.end.fds} at the end`,
      );
  });
});
