// Fixtures for the process tests: tiny node scripts in a temp dir, a Supervisor and a Ledger per test,
// and a record of every pid started so each file can prove nothing outlived it.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';
import { Ledger } from '../../src/core/ledger.js';
import { functionProbe, logProbe } from '../../src/process/probes.js';
import { waitFor } from '../../src/process/recovery.js';
import { Supervisor, type Target, type TargetSpec } from '../../src/process/supervisor.js';

const scripts: Record<string, string> = {
  // HTTP server on an ephemeral port; IGNORE_TERM=1 makes it ignore SIGTERM to force escalation.
  'server.mjs': `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  res.writeHead(req.url === '/fail' ? 503 : 200);
  res.end(req.url === '/fail' ? 'down' : 'ok healthy');
});
server.listen(0, '127.0.0.1', () => console.log('ready ' + server.address().port));
if (process.env.IGNORE_TERM === '1') process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
else process.on('SIGTERM', () => { server.close(); process.exit(0); });
`,
  'counter.mjs': `let i = 0; console.log('start'); setInterval(() => console.log(String(i++)), 20);`,
  'crash.mjs': `
const delay = Number(process.argv[2] ?? 0);
setTimeout(() => { console.error('fatal: boom'); process.exit(Number(process.argv[3] ?? 3)); }, delay);
`,
  'spawner.mjs': `
import { spawn } from 'node:child_process';
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log('child ' + child.pid);
setInterval(() => {}, 1000);
`,
  'chatty.mjs': `
const line = 'x'.repeat(999) + '\\n';
for (let i = 0; i < 300; i++) process.stdout.write(line);
console.log('done');
setInterval(() => {}, 1000);
`,
  'idle.mjs': `console.log('up'); setInterval(() => {}, 1000);`,
};

export const fixtureDir = mkdtempSync(join(tmpdir(), 'faultline-process-test-'));
for (const [name, text] of Object.entries(scripts)) writeFileSync(join(fixtureDir, name), text);

export function script(name: string, ...args: string[]): string[] {
  return [process.execPath, join(fixtureDir, name), ...args];
}

/** Every pid any target ran, checked dead when the file ends. */
export const seenPids = new Set<number>();

after(() => {
  rmSync(fixtureDir, { recursive: true, force: true });
  for (const pid of seenPids) assert.equal(gone(pid), true, `pid ${pid} outlived its test`);
});

/** process.kill(pid, 0) throws ESRCH — or the pid is an unreaped zombie (PID 1 here may not reap). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

export interface Rig {
  supervisor: Supervisor;
  ledger: Ledger;
  start(spec: TargetSpec): Promise<Target>;
}

export function rig(t: TestContext): Rig {
  const supervisor = new Supervisor({ stopGraceMs: 1000 });
  const ledger = new Ledger({ handleSignals: false });
  t.after(async () => {
    await ledger.close().catch(() => {});
    await supervisor.stopAll();
  });
  return {
    supervisor,
    ledger,
    async start(spec) {
      const target = await supervisor.start(spec);
      track(target);
      return target;
    },
  };
}

export function track(target: Target): void {
  seenPids.add(target.pid);
  target.on('start', (pid) => seenPids.add(pid));
}

export function readLog(target: Target, stream: 'stdout' | 'stderr' = 'stdout'): string {
  try {
    return readFileSync(target.logFile(stream), 'utf8');
  } catch {
    return '';
  }
}

/** The port a server.mjs target printed most recently. */
export function portOf(target: Target): number {
  // The last one: each restart listens on a new ephemeral port.
  const match = [...readLog(target).matchAll(/ready (\d+)/g)].at(-1);
  assert.ok(match, `no port in ${target.name}'s log`);
  return Number(match[1]);
}

/** Waits until `predicate` holds (5 s default), checking every 20 ms. */
export async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  await waitFor(
    functionProbe(what, () => {
      if (!predicate()) throw new Error(`not yet: ${what}`);
    }),
    { timeoutMs, intervalMs: 20 },
  );
}

/** Ready once the target printed `pattern` (from the start of its log). */
export function readyOn(pattern: RegExp = /^(ready|up|start)\b/) {
  return (target: Target) => logProbe({ target, pattern, since: 'start' });
}
