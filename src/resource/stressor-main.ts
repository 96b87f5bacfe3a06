// A bounded stressor, run by stressors.ts as `node stressor-main.js <json>` in its own process group.
// It ends by itself after durationMs even if faultline died, and when its stdin closes (parent gone).
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { realClock } from '../core/clock.js';

export type StressorSpec =
  | { readonly kind: 'cpu'; readonly cores: number; readonly durationMs: number }
  | { readonly kind: 'memory'; readonly mib: number; readonly durationMs: number }
  | { readonly kind: 'disk'; readonly path: string; readonly mib: number; readonly durationMs: number };

const MiB = 1024 * 1024;

function burnUntil(deadline: number): void {
  let x = 0;
  while (realClock.now() < deadline) {
    for (let i = 0; i < 10_000; i++) x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
  }
  parentPort?.postMessage(x);
}

function main(spec: StressorSpec): void {
  const deadline = realClock.now() + spec.durationMs;
  let cleanup = (): void => {};
  const finish = (): void => {
    cleanup();
    process.exit(0);
  };
  process.on('SIGTERM', finish);
  process.on('SIGINT', finish);
  process.stdin.on('end', finish);
  process.stdin.on('error', finish);
  process.stdin.resume();
  realClock.setTimeout(finish, spec.durationMs);
  const held: Buffer[] = [];
  if (spec.kind === 'cpu') {
    // One thread per core; each checks the deadline itself, so a stuck main thread cannot extend the burn.
    for (let i = 0; i < spec.cores; i++) {
      new Worker(new URL(import.meta.url), { workerData: { deadline } }).unref();
    }
  } else if (spec.kind === 'memory') {
    for (let i = 0; i < spec.mib && realClock.now() < deadline; i++) {
      // Filling touches every page, so the memory is resident, not just reserved.
      held.push(Buffer.allocUnsafeSlow(MiB).fill(i & 0xff));
    }
  } else {
    cleanup = () => {
      try {
        unlinkSync(spec.path);
      } catch {
        // Already removed by faultline's heal.
      }
    };
    process.on('exit', cleanup);
    const fd = openSync(spec.path, 'wx', 0o600);
    const chunk = Buffer.alloc(MiB, 0x5a);
    try {
      for (let i = 0; i < spec.mib && realClock.now() < deadline; i++) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
  }
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, held: held.length })}\n`);
}

if (isMainThread) {
  main(JSON.parse(process.argv[2] ?? '{}') as StressorSpec);
} else {
  burnUntil((workerData as { deadline: number }).deadline);
}
