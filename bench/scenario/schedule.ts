/**
 * Schedule accuracy, on the real clock: from the instant a scheduled injection is due to the fault being in
 * force. The schedule is resolved from a scenario file's `[[faults]]` and run by `runSchedule`, each step
 * injected as the runner does it (`createFault(kind, liveParams(…)).inject(context)`), on targets started by
 * `startTargets`: a TCP proxy with live connections to an echo server, and a process that notes when a
 * signal reaches it.
 *
 * Every period of `periodMs`: at +0 a `tcp.latency` toxic (healed at +40), at +50 a `process.kill` with
 * SIGUSR1 (caught by the target; healed at +70), and at +25 the baseline — a bare timer on the same clock
 * that also sends SIGUSR2 with `process.kill`. The baseline runs between the injections rather than at the
 * same instants, so neither waits behind the other in the event loop.
 *
 * In force: for the toxic, when `inject` has resolved (the proxy attaches it to every live connection
 * synchronously), checked by a byte echoed right after, which must come back at least `latencyMs` late
 * (less the 1 ms a Node timer may fire early: libuv schedules on a loop time in whole ms, read before);
 * for the signal, when the target's handler runs, on the target's own reading of CLOCK_MONOTONIC.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/scenario/fault-families.js';
import { type Clock, realClock } from '../../src/core/clock.js';
import type { FaultContext } from '../../src/core/fault.js';
import { createFault } from '../../src/core/fault-registry.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import type { Target } from '../../src/process/index.js';
import type { TcpProxy } from '../../src/proxy/index.js';
import { readDocument } from '../../src/scenario/document.js';
import { methodLimitMs, validateScenario } from '../../src/scenario/format.js';
import { runSchedule } from '../../src/scenario/method.js';
import { liveParams } from '../../src/scenario/references.js';
import { resolveSchedule } from '../../src/scenario/schedule.js';
import { startTargets } from '../../src/scenario/targets.js';

const childScript = fileURLToPath(new URL('./signal-child.js', import.meta.url));

export interface ScheduleOptions {
  /** Injections of each kind. */
  readonly ticks: number;
  /** Live connections through the proxy (besides the one that checks the toxic). */
  readonly connections: number;
  readonly log: (line: string) => void;
}

export interface ScheduleFigures {
  /** Lateness in ms, one per tick. */
  readonly toxic: number[];
  readonly signal: number[];
  /** The same two as the run records them (`injectedAtMs - atMs`): when `inject` returned. */
  readonly toxicRecorded: number[];
  readonly signalRecorded: number[];
  readonly timer: number[];
  readonly bareSignal: number[];
  /** Ticks whose check byte came back at least latencyMs - 1 late, of those checked: the ticks whose toxic
   * stayed in force for latencyMs after the byte was sent (`healedEarly` did not). */
  readonly delayed: number;
  readonly checked: number;
  readonly healedEarly: number;
  readonly errors: string[];
}

const periodMs = 100;
const firstMs = 500;
const latencyMs = 20;
/** A Node timer may fire this much before its delay as `performance.now()` counts it. */
const timerSlackMs = 1;

function scenarioText(echoPort: number, ticks: number): string {
  return `
[experiment]
name = "schedule accuracy"
seed = 1
timeLimit = "${Math.ceil((firstMs + ticks * periodMs) / 1000) + 30}s"

[targets.sig]
type = "process"
argv = [${JSON.stringify(process.execPath)}, ${JSON.stringify(childScript)}]
ready = { type = "log", target = "sig", pattern = "^ready" }

[targets.front]
type = "tcp-proxy"
upstream = "127.0.0.1:${echoPort}"

[[faults]]
kind = "tcp.latency"
at = "${firstMs}ms"
every = "${periodMs}ms"
times = ${ticks}
for = "40ms"
params = { proxy = "front", latencyMs = ${latencyMs} }

[[faults]]
kind = "process.kill"
at = "${firstMs + 50}ms"
every = "${periodMs}ms"
times = ${ticks}
for = "20ms"
params = { target = "sig", signal = "SIGUSR1", exitTimeoutMs = 0 }
`;
}

/** The offset (ms) from `performance.now()` to `process.hrtime` since `base`, from the closest of many reads. */
function hrtimeOffsetMs(base: bigint): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 2000; i++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint() - base) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = hr - (before + after) / 2;
    }
  }
  return offset;
}

/**
 * Lateness of each signal: from its due instant to the first receipt at or after it (less a timer's slack).
 * Two signals sent while the first was still pending reach the target as one, which then serves both.
 */
function delivered(dues: readonly number[], receipts: readonly number[]): number[] {
  // None merged: each receipt is its own signal's, even one that came a little early (a timer may fire up
  // to 1 ms before its instant), which the search below would pair with the next signal instead.
  if (receipts.length === dues.length) return dues.map((due, i) => (receipts[i] as number) - due);
  const lateness: number[] = [];
  let next = 0;
  for (const due of dues) {
    while (next < receipts.length && (receipts[next] as number) < due - timerSlackMs) next++;
    if (next === receipts.length) break;
    lateness.push((receipts[next] as number) - due);
  }
  return lateness;
}

/** One round trip of a byte on `socket`, in ms. */
async function echoMs(socket: Socket): Promise<number> {
  const start = performance.now();
  socket.write('x');
  await once(socket, 'data');
  return performance.now() - start;
}

/** Takes down what the phase started (targets, proxy, sockets, temp dir), if it is running. */
let teardown: (() => Promise<void>) | undefined;

export async function stopSchedule(): Promise<void> {
  await teardown?.();
}

export async function benchSchedule(options: ScheduleOptions): Promise<ScheduleFigures> {
  const { ticks, log } = options;
  const echo: Server = createServer((socket) => socket.pipe(socket));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const echoPort = (echo.address() as { port: number }).port;
  const runDir = await mkdtemp(join(tmpdir(), 'faultline-bench-schedule-'));
  const ledger = new Ledger({ clock: realClock });
  const sockets: Socket[] = [];
  let ending: Promise<void> | undefined;
  teardown = () => {
    ending ??= (async () => {
      for (const socket of sockets) socket.destroy();
      await ledger.close();
      echo.close();
      await rm(runDir, { recursive: true, force: true });
      teardown = undefined;
    })();
    return ending;
  };
  try {
    const scenario = validateScenario(readDocument('schedule-accuracy.toml', scenarioText(echoPort, ticks)));
    const random = new Random(1, 'run');
    const live = await startTargets(scenario.targets, {
      ledger,
      clock: realClock,
      random: random.fork('targets'),
      runDir,
    });
    const proxy = live.get('front', 'tcp-proxy').object as TcpProxy;
    const target = live.get('sig', 'process').object as Target;
    for (let i = 0; i <= options.connections; i += 50) {
      const batch = Array.from({ length: Math.min(50, options.connections + 1 - i) }, async () => {
        const socket = connect({ host: '127.0.0.1', port: proxy.port });
        socket.setNoDelay(true);
        sockets.push(socket);
        await once(socket, 'connect');
        await echoMs(socket); // the whole path is up
      });
      await Promise.all(batch);
    }
    const checker = sockets[0] as Socket;
    log(`schedule: ${proxy.stats.connectionsActive} live connections, ${ticks} ticks of each fault`);

    const planned = resolveSchedule(scenario.faults ?? [], { seed: 1, limitMs: methodLimitMs(scenario) });
    const context: FaultContext = { ledger, clock: realClock, random: random.fork('faults') };
    const inForce = new Map<number, number>(); // tick → when the toxic's inject resolved (ms)
    const checks: Promise<{ tick: number; sentMs: number; rttMs: number }>[] = [];
    // The run's clock, seen through a window: its first reading is the schedule's start.
    let startMs: number | undefined;
    const clock: Clock = {
      now: () => {
        const now = realClock.now();
        startMs ??= now;
        return now;
      },
      wallNow: () => realClock.wallNow(),
      setTimeout: (callback, delayMs) => realClock.setTimeout(callback, delayMs),
      clearTimeout: (handle) => realClock.clearTimeout(handle),
      sleep: (delayMs, signal) => realClock.sleep(delayMs, signal),
    };
    const run = runSchedule(planned, {
      clock,
      inject: async (step) => {
        const injection = await createFault(
          step.kind,
          liveParams(step.kind, step.params, live, `faults[${step.entry}].params`),
        ).inject(context);
        if (step.kind === 'tcp.latency') {
          const sentMs = realClock.now();
          inForce.set(step.tick, sentMs);
          checks.push(echoMs(checker).then((rttMs) => ({ tick: step.tick, sentMs, rttMs })));
        }
        return injection;
      },
    });
    const start = startMs as number;

    // The baseline, on the same clock, between the injections.
    const timer: number[] = [];
    const bareSent: number[] = [];
    for (let tick = 0; tick < ticks; tick++) {
      const due = start + firstMs + 25 + tick * periodMs;
      const waitMs = due - realClock.now();
      if (waitMs > 0) await realClock.sleep(waitMs);
      timer.push(realClock.now() - due);
      process.kill(target.pid, 'SIGUSR2');
      bareSent.push(due);
    }
    await run.scheduled;
    await run.end();
    const echoes = await Promise.all(checks);

    // What the target noted, on CLOCK_MONOTONIC, into this process's performance.now() time base.
    const base = process.hrtime.bigint();
    const offset = hrtimeOffsetMs(base);
    const deadline = realClock.now() + 5000;
    let lines: string[] = [];
    for (;;) {
      lines = readFileSync(target.logFile('stdout'), 'utf8').split('\n');
      const count = lines.filter((line) => line.startsWith('USR')).length;
      if (count >= 2 * ticks || realClock.now() > deadline) break;
      await realClock.sleep(50);
    }
    const noted = (name: string): number[] =>
      lines
        .filter((line) => line.startsWith(`${name} `))
        .map((line) => Number(BigInt(line.slice(name.length + 1)) - base) / 1e6 - offset);
    const usr1 = noted('USR1');
    const usr2 = noted('USR2');

    const errors = run.records.filter((r) => r.error !== undefined).map((r) => `${r.step.kind}: ${r.error}`);
    const byKind = (kind: string) => run.records.filter((r) => r.step.kind === kind);
    const toxicRecords = byKind('tcp.latency');
    const signalRecords = byKind('process.kill');
    const recorded = (records: typeof toxicRecords): number[] =>
      records
        .filter((r) => r.injectedAtMs !== undefined)
        .map((r) => (r.injectedAtMs as number) - r.step.atMs);
    // A check byte can only be delayed if the toxic stayed long enough: a tick injected late (a stalled
    // event loop) meets its heal, due 40 ms after the scheduled instant, straight away.
    const healedAt = new Map(toxicRecords.map((r) => [r.step.tick, start + (r.healedAtMs ?? Number.NaN)]));
    const eligible = echoes.filter((e) => (healedAt.get(e.tick) ?? 0) >= e.sentMs + latencyMs);
    const signalDue = signalRecords
      .filter((r) => r.injectedAtMs !== undefined)
      .map((r) => start + r.step.atMs);
    if (usr1.length !== signalDue.length || usr2.length !== bareSent.length) {
      errors.push(
        `the target noted ${usr1.length} SIGUSR1 (${signalDue.length} sent) and ${usr2.length} SIGUSR2 (${bareSent.length} sent): a signal sent while the one before was still pending merges with it`,
      );
    }
    return {
      toxic: toxicRecords
        .filter((r) => inForce.has(r.step.tick))
        .map((r) => (inForce.get(r.step.tick) as number) - (start + r.step.atMs)),
      signal: delivered(signalDue, usr1),
      toxicRecorded: recorded(toxicRecords),
      signalRecorded: recorded(signalRecords),
      timer,
      bareSignal: delivered(bareSent, usr2),
      delayed: eligible.filter((e) => e.rttMs >= latencyMs - timerSlackMs).length,
      checked: eligible.length,
      healedEarly: echoes.length - eligible.length,
      errors,
    };
  } finally {
    await teardown?.();
  }
}
