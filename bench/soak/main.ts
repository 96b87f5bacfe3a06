/**
 * Soak benchmark: `npm run bench:soak` (or `node dist/bench/soak/main.js [options]`).
 *
 * For a bounded time, up to `--concurrency` TCP connections at once open, exchange one request and
 * close through a real `faultline server` (its own process, driven over its Toxiproxy API), one proxy
 * per toxic (scenarios.ts), half of the clients half-closing; and UDP clients on fresh ports come and
 * go through a UdpProxy child with impairments, so sessions are created and expire. Every byte and
 * datagram is accounted for end to end, and the RSS and descriptors of both proxy processes are
 * sampled over time. Then the two RSS targets: 5,000 idle connections (bench/proxy's own RSS phase,
 * run as it is) and 1,000 connections through `slicer` with `average_size: 1`. See
 * docs/performance.md, "Soak".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ToxiproxyClient } from '../../src/api/client.js';
import { parseDuration } from '../../src/core/duration.js';
import { messageOf } from '../../src/core/errors.js';
import { Random } from '../../src/core/random.js';
import type { UdpIo } from '../../src/proxy/udp/udp-proxy.js';
import {
  cleanUpOnExit,
  forkWithIpc,
  type IpcChild,
  interrupted,
  positiveInt,
  register,
  stopChild,
} from '../../test/support/children.js';
import {
  type ClientMode,
  clientModes,
  type ScenarioFigures,
  scenarios,
} from '../../test/support/soak-scenarios.js';
import {
  killAll,
  openFileLimits,
  type ProxyServer,
  type Sink,
  startServer,
  startSink,
} from '../proxy/children.js';
import { round, table } from '../proxy/stats.js';
import { ProcessSampler, readUdpKernelErrors, type Sample, type UdpKernelErrors } from './sampler.js';
import { TcpLoad } from './tcp-load.js';
import type { UdpEchoMessage, UdpEchoRequest } from './udp-echo.js';
import { UdpLoad, type UdpLoadFigures } from './udp-load.js';
import type { UdpChildConfig, UdpChildMessage, UdpChildRequest } from './udp-proxy-child.js';

const phaseNames = ['tcp', 'udp', 'idle', 'slicer'] as const;
type Phase = (typeof phaseNames)[number];

const usage = `usage: node dist/bench/soak/main.js [options]
  --duration <d>            how long connections keep coming (default 20s; "90s", "5m")
  --concurrency <n>         TCP connections open at once (default 2000)
  --udp-concurrency <n>     UDP clients at once (default concurrency / 4)
  --long                    the long run: --duration 5m --concurrency 2000
  --modes <list>            client kinds: half-close,interactive (default both)
  --phases <list>           subset of ${phaseNames.join(',')} (default all)
  --idle <n>                idle connections for the idle-RSS target (default 5000)
  --slicer-connections <n>  connections through slicer average_size 1 (default 1000)
  --slicer-kib <n>          KiB each of them sends at once (default 64)
  --slicer-time <d>         how long that phase runs at most (default 30s: 1-byte slices are slow)
  --slicer-delay-us <n>     the slicer's delay between slices, µs (default 1000)
  --udp-io <io>             auto, batch or dgram (default auto)
  --server <path>           faultline CLI to run as "server" (default dist/src/cli/main.js)
  --settle <d>              after the load, how long to wait at most for the proxies' RSS to come back
                            near the start (default 90s; V8 returns it 25–70 s after a load stops)
  --seed <n>                seed of every draw (default 1)
  --json <path>             also write every figure as JSON
  --exit-with-stdin         stop (cleaning up like SIGTERM, exit 130) when stdin ends: for a parent that
                            must not leave the run behind if it dies (test/soak/soak.test.ts)
Exit code: 0 when every check passes, 1 when one fails (a lost byte, a broken toxic promise, an
unaccounted datagram, RSS or descriptors not flat, an RSS target missed) or on an error, 130 on SIGINT
or SIGTERM (or the end of stdin with --exit-with-stdin).`;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string' },
    concurrency: { type: 'string' },
    'udp-concurrency': { type: 'string' },
    long: { type: 'boolean', default: false },
    modes: { type: 'string', default: clientModes.join(',') },
    phases: { type: 'string', default: phaseNames.join(',') },
    idle: { type: 'string', default: '5000' },
    'slicer-connections': { type: 'string', default: '1000' },
    'slicer-kib': { type: 'string', default: '64' },
    'slicer-time': { type: 'string', default: '30s' },
    'slicer-delay-us': { type: 'string', default: '1000' },
    'udp-io': { type: 'string', default: 'auto' },
    server: { type: 'string', default: fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)) },
    seed: { type: 'string', default: '1' },
    settle: { type: 'string', default: '90s' },
    json: { type: 'string' },
    'exit-with-stdin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(usage);
  process.exit(0);
}

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

let durationMs: number;
try {
  durationMs = parseDuration(options.duration ?? (options.long ? '5m' : '20s'), '--duration');
} catch (error) {
  fail(messageOf(error));
}
if (durationMs < 1000 || durationMs > 3_600_000) fail('--duration: expected 1s to 1h');
let slicerTimeMs: number;
try {
  slicerTimeMs = parseDuration(options['slicer-time'], '--slicer-time');
} catch (error) {
  fail(messageOf(error));
}
let settleMs: number;
try {
  settleMs = parseDuration(options.settle, '--settle');
} catch (error) {
  fail(messageOf(error));
}
if (settleMs > 600_000) fail('--settle: at most 10m');
let concurrency = positiveInt('concurrency', options.concurrency ?? '2000', 20_000, usage);
const udpConcurrency =
  options['udp-concurrency'] === undefined
    ? Math.max(1, Math.floor(concurrency / 4))
    : positiveInt('udp-concurrency', options['udp-concurrency'], 5000, usage);
const modes = options.modes.split(',').map((mode) => mode.trim()) as ClientMode[];
if (modes.length === 0 || modes.some((mode) => !clientModes.includes(mode)))
  fail(`--modes: expected a list of ${clientModes.join(', ')}, got "${options.modes}"`);
const phases = new Set(options.phases.split(',').map((phase) => phase.trim()) as Phase[]);
for (const phase of phases)
  if (!phaseNames.includes(phase))
    fail(`--phases: unknown phase "${phase}"; expected ${phaseNames.join(', ')}`);
const idleCount = positiveInt('idle', options.idle, 20_000, usage);
const slicerConnections = positiveInt('slicer-connections', options['slicer-connections'], 10_000, usage);
const slicerBytes = positiveInt('slicer-kib', options['slicer-kib'], 1024, usage) * 1024;
const slicerDelayUs = positiveInt('slicer-delay-us', options['slicer-delay-us'], 1_000_000, usage);
const udpIo = options['udp-io'] as UdpIo;
if (!['auto', 'batch', 'dgram'].includes(udpIo)) fail(`--udp-io: expected auto, batch or dgram`);
const seed = positiveInt('seed', options.seed, 2 ** 31, usage);
const serverScript = options.server;

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
const sources = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
const sampleEveryMs = 1000;
/** A connection still open this long after it started is destroyed and counted as hung. */
const connectionDeadlineMs = 30_000;
const udpSessionIdleMs = 1000;
const udpQuietMs = 300;
const udpImpairments = {
  upstream: { loss: { probability: 0.02 }, corrupt: { probability: 0.01 }, delay: { ms: 2, jitterMs: 1 } },
  downstream: {
    duplicate: { probability: 0.02 },
    reorder: { probability: 0.02 },
    rate: { bytesPerSec: 20_000_000, queueBytes: 65_536 },
  },
};
/** Flat: after the clients are gone, descriptors back within this many of the start… */
const fdSlack = 8;
/** …and RSS within this much of it (MB), or within this share of the rise to the peak, whichever is more. */
const rssSlackMB = 40;
const rssSlackShare = 0.25;
const targets = { idleRssMB: 150, slicerRssMB: 300 } as const;
/** V8 heap cap of the server in the slicer phase, MB. */
const slicerHeapCapMB = 1024;

const startedAt = performance.now();
function progress(message: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kib: number): number => round((kib * 1024) / 1e6, 1);

let sink: Sink | undefined;
let server: ProxyServer | undefined;
let udpEcho: IpcChild<UdpEchoRequest, UdpEchoMessage> | undefined;
let udpProxy: IpcChild<UdpChildRequest, UdpChildMessage> | undefined;
let tcpLoad: TcpLoad | undefined;
let udpLoad: UdpLoad | undefined;
let idleChild: ChildProcess | undefined;
const samplers: ProcessSampler[] = [];
const extraSockets = new Set<Socket>();
let tempDir: string | undefined;

async function cleanup(): Promise<void> {
  for (const sampler of samplers) sampler.stop();
  tcpLoad?.stop();
  udpLoad?.stop();
  for (const socket of extraSockets) socket.destroy();
  extraSockets.clear();
  await Promise.allSettled([
    server?.stop(),
    sink?.stop(),
    udpEcho?.stop(),
    udpProxy?.stop(),
    idleChild ? stopChild(idleChild, 'SIGTERM', 10_000) : undefined,
  ]);
  server = undefined;
  sink = undefined;
  udpEcho = undefined;
  udpProxy = undefined;
  idleChild = undefined;
  killAll();
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

// A safety net: the load phase, its settling, the idle-RSS run (which may wait 30 s for a quiet
// machine) and the slicer phase, with room to spare.
const watchdog = cleanUpOnExit(cleanup, progress, durationMs + settleMs + 600_000, {
  exitWithStdin: options['exit-with-stdin'],
});

interface ProcessFigures {
  label: string;
  start: Sample;
  peakRssKiB: number;
  peakFds: number;
  end: Sample;
  fdsFlat: boolean;
  rssFlat: boolean;
  samples: Sample[];
}

/** How far above its start a process's RSS may end and still count as flat, KiB. */
function rssSlackKiB(sampler: ProcessSampler, start: Sample): number {
  return Math.max((rssSlackMB * 1e6) / 1024, rssSlackShare * (sampler.peakRssKiB - start.rssKiB));
}

function judge(sampler: ProcessSampler, start: Sample, end: Sample): ProcessFigures {
  const slackKiB = rssSlackKiB(sampler, start);
  return {
    label: sampler.label,
    start,
    peakRssKiB: sampler.peakRssKiB,
    peakFds: sampler.peakFds,
    end,
    fdsFlat: end.fds <= start.fds + fdSlack,
    rssFlat: end.rssKiB <= start.rssKiB + slackKiB,
    samples: sampler.samples,
  };
}

/**
 * Samples `sampler` until its descriptors are back near `start` (at most `fdWaitMs`), then until its
 * RSS is back within the slack (at most `settleMs`: V8 gives the memory of a load back ~30 s after it
 * stops, by its memory reducer; a full GC alone does not), and returns the last sample.
 */
async function settle(sampler: ProcessSampler, start: Sample, fdWaitMs: number): Promise<Sample> {
  const fdsBy = performance.now() + fdWaitMs;
  while (sampler.sample().fds > start.fds + fdSlack && performance.now() < fdsBy) await sleep(250);
  await sleep(1000);
  const rssBy = performance.now() + settleMs;
  let sample = sampler.sample();
  while (sample.rssKiB > start.rssKiB + rssSlackKiB(sampler, start) && performance.now() < rssBy) {
    await sleep(1000);
    sample = sampler.sample();
  }
  return sample;
}

interface UdpFigures {
  clients: UdpLoadFigures;
  proxy: Extract<UdpChildMessage, { type: 'report' }>;
  echo: { received: number; sent: number };
  /**
   * What the kernel counted over the UDP run (Udp: in /proc/net/snmp, the whole network namespace), or
   * undefined where it cannot be read: `dropped` is InErrors + SndbufErrors.
   */
  kernel: (UdpKernelErrors & { dropped: number }) | undefined;
  /** Each line of the accounting: what should relate to what (`=`, or `≥` / `≤`), and whether it does. */
  checks: { what: string; left: number; right: number; relation: '=' | '≥' | '≤'; ok: boolean }[];
  ok: boolean;
}

async function udpReport(): Promise<Extract<UdpChildMessage, { type: 'report' }>> {
  const message = await (udpProxy as IpcChild<UdpChildRequest, UdpChildMessage>).ask(
    { type: 'report' },
    'counters',
  );
  if (message.type !== 'report') throw new Error(`unexpected message from the UDP proxy: ${message.type}`);
  return message;
}

async function udpEchoCount(): Promise<{ received: number; sent: number }> {
  const message = await (udpEcho as IpcChild<UdpEchoRequest, UdpEchoMessage>).ask({ type: 'count' }, 'count');
  if (message.type !== 'count') throw new Error(`unexpected message from the UDP echo: ${message.type}`);
  return { received: message.received, sent: message.sent };
}

/**
 * The UDP accounting. The proxy's own figures must balance exactly. Across the kernel (a socket sending
 * to the next one over loopback) a datagram can be dropped by a full receive buffer on a loaded machine:
 * those four lines are exact while the kernel reports no UDP drop over the run, else each may fall short
 * and together by no more than the kernel dropped (its counters cover the whole network namespace, so
 * they bound this run's losses rather than equal them).
 */
function udpAccounting(
  clients: UdpLoadFigures,
  proxy: Extract<UdpChildMessage, { type: 'report' }>,
  echo: { received: number; sent: number },
  kernelErrors: UdpKernelErrors | undefined,
): UdpFigures {
  const up = proxy.counters.upstream;
  const down = proxy.counters.downstream;
  const kernel =
    kernelErrors === undefined
      ? undefined
      : { ...kernelErrors, dropped: kernelErrors.inErrors + kernelErrors.sndbufErrors };
  const across = kernel === undefined || kernel.dropped === 0 ? ('=' as const) : ('≥' as const);
  const boundaries = [
    { what: 'sent by clients → received by the proxy', left: clients.sent, right: up.received },
    { what: 'upstream forwarded → received by the server', left: up.forwarded, right: echo.received },
    { what: 'sent by the server → received by the proxy', left: echo.sent, right: down.received },
    { what: 'downstream forwarded → received by clients', left: down.forwarded, right: clients.received },
  ];
  const lost = boundaries.reduce((sum, check) => sum + Math.max(0, check.left - check.right), 0);
  const exact = (check: { what: string; left: number; right: number }) => ({
    ...check,
    relation: '=' as const,
    ok: check.left === check.right,
  });
  const checks: UdpFigures['checks'] = [
    ...boundaries.map((check) => ({
      ...check,
      relation: across,
      ok: across === '=' ? check.left === check.right : check.left >= check.right,
    })),
    ...[
      {
        what: 'upstream: received + duplicated = forwarded + dropped',
        left: up.received + up.duplicated,
        right: up.forwarded + up.dropped,
      },
      {
        what: 'downstream: received + duplicated = forwarded + dropped',
        left: down.received + down.duplicated,
        right: down.forwarded + down.dropped,
      },
      {
        what: 'held in the proxy at the end',
        left: proxy.queued.upstream + proxy.queued.downstream,
        right: 0,
      },
    ].map(exact),
  ];
  checks.push({
    what: 'lost between sockets ≤ dropped by the kernel (Udp InErrors + SndbufErrors)',
    left: lost,
    right: kernel?.dropped ?? 0,
    relation: '≤',
    ok: lost <= (kernel?.dropped ?? 0),
  });
  return { clients, proxy, echo, kernel, checks, ok: checks.every((check) => check.ok) };
}

interface SoakResult {
  tcp?: { figures: Record<string, ScenarioFigures>; process: ProcessFigures; connections: number };
  udp?: { figures: UdpFigures; process: ProcessFigures };
}

async function soakPhase(): Promise<SoakResult> {
  const random = new Random(seed).fork('soak');
  const result: SoakResult = {};
  const runTcp = phases.has('tcp');
  const runUdp = phases.has('udp');
  /** The kernel's UDP error counters when the load starts (see udpAccounting). */
  let kernelAtStart: UdpKernelErrors | undefined;
  let tcpTargets: { scenario: (typeof scenarios)[number]; port: number }[] = [];
  if (runTcp) {
    sink = await startSink(here('../proxy/sink-server.js'));
    server = await startServer(serverScript, [], seed);
    progress(`faultline server pid ${server.pid} (API port ${server.apiPort}); echo server pid ${sink.pid}`);
    const api = new ToxiproxyClient(`http://127.0.0.1:${server.apiPort}`);
    for (const scenario of scenarios) {
      const name = `soak_${scenario.name}`;
      const state = await api.createProxy({
        name,
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${sink.ports.echo}`,
      });
      for (const toxic of scenario.toxics) await api.addToxic(name, toxic);
      tcpTargets.push({ scenario, port: Number(/:(\d+)$/.exec(state.listen)?.[1]) });
    }
    tcpTargets = tcpTargets.filter((target) => target.port > 0);
    if (tcpTargets.length !== scenarios.length) throw new Error('a proxy has no listen port');
  }
  if (runUdp) {
    const echo = await forkWithIpc<UdpEchoRequest, UdpEchoMessage, number>(
      here('./udp-echo.js'),
      [],
      (message) => {
        if (message.type !== 'ready') throw new Error(`UDP echo: expected ready, got ${message.type}`);
        return message.port;
      },
      { what: 'UDP echo server', stopRequest: { type: 'stop' } },
    );
    udpEcho = echo.child;
    const config: UdpChildConfig = {
      upstreamPort: echo.ready,
      io: udpIo,
      seed,
      sessionIdleMs: udpSessionIdleMs,
      ...udpImpairments,
    };
    const proxy = await forkWithIpc<UdpChildRequest, UdpChildMessage, { port: number; io: string }>(
      here('./udp-proxy-child.js'),
      [JSON.stringify(config)],
      (message) => {
        if (message.type !== 'ready') throw new Error(`UDP proxy: expected ready, got ${message.type}`);
        return { port: message.port, io: message.io };
      },
      { what: 'UDP proxy', stopRequest: { type: 'stop' } },
    );
    udpProxy = proxy.child;
    progress(`UDP proxy pid ${udpProxy.pid} (io ${proxy.ready.io}); UDP echo pid ${udpEcho.pid}`);
    udpLoad = new UdpLoad({
      port: proxy.ready.port,
      concurrency: udpConcurrency,
      durationMs,
      random: random.fork('udp'),
      sources,
      quietMs: udpQuietMs,
    });
  }
  const tcpSampler = server ? new ProcessSampler('faultline server (TCP)', server.pid, startedAt) : undefined;
  const udpSampler = udpProxy
    ? new ProcessSampler('UdpProxy child (UDP)', udpProxy.pid, startedAt)
    : undefined;
  const live = [tcpSampler, udpSampler].filter((s): s is ProcessSampler => s !== undefined);
  samplers.push(...live);
  await sleep(500);
  const starts = live.map((sampler) => sampler.sample());
  for (const sampler of live) sampler.start(sampleEveryMs);
  if (runTcp) {
    tcpLoad = new TcpLoad({
      targets: tcpTargets,
      concurrency,
      durationMs,
      random: random.fork('tcp'),
      connectionDeadlineMs,
      sources,
      modes,
    });
  }
  progress(
    `load for ${durationMs / 1000} s: ${runTcp ? `${concurrency} TCP connections at once over ${scenarios.length} proxies (${modes.join(' + ')} clients)` : 'no TCP'}; ${runUdp ? `${udpConcurrency} UDP clients at once` : 'no UDP'}`,
  );
  const report = setInterval(
    () => {
      const parts: string[] = [];
      if (tcpLoad) parts.push(`TCP ${tcpLoad.finished} done, ${tcpLoad.open} open`);
      if (udpLoad) parts.push(`UDP ${udpLoad.figures.clients} clients done, ${udpLoad.open} active`);
      for (const sampler of live) {
        const last = sampler.last();
        if (last) parts.push(`${sampler.label.split(' ')[0]} RSS ${mb(last.rssKiB)} MB, ${last.fds} fds`);
      }
      progress(parts.join('; '));
    },
    Math.max(2000, Math.min(30_000, durationMs / 10)),
  );
  try {
    kernelAtStart = runUdp ? readUdpKernelErrors() : undefined;
    await Promise.all([tcpLoad?.run(), udpLoad?.run()]);
  } finally {
    clearInterval(report);
  }
  for (const sampler of live) sampler.stop();
  progress(
    `load done; waiting for the proxies to let go of their connections and sessions, and up to ${settleMs / 1000} s for their RSS to come back`,
  );
  const tcpPart = async (sampler: ProcessSampler, load: TcpLoad): Promise<void> => {
    const start = starts[live.indexOf(sampler)] as Sample;
    const end = await settle(sampler, start, 20_000);
    const figures: Record<string, ScenarioFigures> = {};
    for (const [name, perMode] of load.figures) figures[name] = perMode;
    result.tcp = { figures, process: judge(sampler, start, end), connections: load.finished };
  };
  const udpPart = async (sampler: ProcessSampler, load: UdpLoad): Promise<void> => {
    const start = starts[live.indexOf(sampler)] as Sample;
    // Sessions expire sessionIdleMs after their last datagram; the sweep runs at least every second.
    const until = performance.now() + udpSessionIdleMs + 10_000;
    let proxyReport = await udpReport();
    while (
      (proxyReport.sessions > 0 || proxyReport.queued.upstream + proxyReport.queued.downstream > 0) &&
      performance.now() < until
    ) {
      await sleep(200);
      proxyReport = await udpReport();
    }
    const end = await settle(sampler, start, 5000);
    proxyReport = await udpReport();
    const echo = await udpEchoCount();
    const kernelAtEnd = readUdpKernelErrors();
    const kernel =
      kernelAtStart === undefined || kernelAtEnd === undefined
        ? undefined
        : {
            inErrors: kernelAtEnd.inErrors - kernelAtStart.inErrors,
            rcvbufErrors: kernelAtEnd.rcvbufErrors - kernelAtStart.rcvbufErrors,
            sndbufErrors: kernelAtEnd.sndbufErrors - kernelAtStart.sndbufErrors,
          };
    result.udp = {
      figures: udpAccounting(load.figures, proxyReport, echo, kernel),
      process: judge(sampler, start, end),
    };
  };
  await Promise.all([
    tcpSampler && tcpLoad ? tcpPart(tcpSampler, tcpLoad) : undefined,
    udpSampler && udpLoad ? udpPart(udpSampler, udpLoad) : undefined,
  ]);
  await Promise.allSettled([server?.stop(), sink?.stop(), udpEcho?.stop(), udpProxy?.stop()]);
  server = undefined;
  sink = undefined;
  udpEcho = undefined;
  udpProxy = undefined;
  samplers.length = 0;
  return result;
}

interface IdleResult {
  connections: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  pass: boolean;
}

/** bench/proxy's idle-RSS phase, run as it is (`--phases rss`), its figures read from its JSON. */
async function idlePhase(): Promise<IdleResult> {
  tempDir ??= mkdtempSync(join(tmpdir(), 'faultline-soak-'));
  const jsonPath = join(tempDir, 'idle.json');
  const args = [
    here('../proxy/main.js'),
    '--phases',
    'rss',
    '--idle',
    String(idleCount),
    '--server',
    serverScript,
    '--json',
    jsonPath,
  ];
  progress(`idle RSS: node ${args.map((arg) => arg.replace(process.cwd(), '.')).join(' ')}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  idleChild = child;
  register(child);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  idleChild = undefined;
  if (code !== 0) throw new Error(`bench/proxy --phases rss exited with code ${code}`);
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
    rss: { connections: number; faultline: { rssBeforeMB: number; rssAfterMB: number } };
  };
  const { connections, faultline } = json.rss;
  return {
    connections,
    rssBeforeMB: faultline.rssBeforeMB,
    rssAfterMB: faultline.rssAfterMB,
    pass: faultline.rssAfterMB <= targets.idleRssMB,
  };
}

interface SlicerResult {
  connections: number;
  bytesPerConnection: number;
  /** Connections whose whole request came back before the time bound. */
  completed: number;
  bytesBack: number;
  /** Bytes that came back different from what was sent (must be 0). */
  corruptedBytes: number;
  /** The server was still running at the end. */
  serverAlive: boolean;
  seconds: number;
  rssBeforeMB: number;
  peakRssMB: number;
  pass: boolean;
}

/** 1,000 connections at once through slicer average_size 1 on a fresh server: its peak RSS. */
async function slicerPhase(): Promise<SlicerResult> {
  sink = await startSink(here('../proxy/sink-server.js'));
  // A heap cap, so a blow-up fails fast (the server dies) instead of taking a shared machine's memory.
  server = await startServer(serverScript, [`--max-old-space-size=${slicerHeapCapMB}`], seed);
  const api = new ToxiproxyClient(`http://127.0.0.1:${server.apiPort}`);
  const state = await api.createProxy({
    name: 'soak_slicer_1',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${sink.ports.echo}`,
  });
  await api.addToxic('soak_slicer_1', {
    type: 'slicer',
    stream: 'downstream',
    attributes: { average_size: 1, size_variation: 0, delay: slicerDelayUs },
  });
  const port = Number(/:(\d+)$/.exec(state.listen)?.[1]);
  const sampler = new ProcessSampler('faultline server (slicer)', server.pid, startedAt);
  samplers.push(sampler);
  await sleep(500);
  const before = sampler.sample();
  sampler.start(250);
  progress(
    `slicer: ${slicerConnections} connections, ${slicerBytes / 1024} KiB each at once, through slicer average_size 1, delay ${slicerDelayUs} µs (server heap capped at ${slicerHeapCapMB} MB; RSS before ${mb(before.rssKiB)} MB)`,
  );
  const pattern = Buffer.alloc(slicerBytes);
  const random = new Random(seed).fork('slicer');
  for (let i = 0; i < pattern.length; i++) pattern[i] = random.int(256);
  const began = performance.now();
  let completed = 0;
  let bytesBack = 0;
  let corruptedBytes = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress: sources[i % sources.length] });
      extraSockets.add(socket);
      let matched = 0;
      socket.once('connect', () => socket.write(pattern));
      socket.on('data', (chunk: Buffer) => {
        bytesBack += chunk.length;
        const expected = pattern.subarray(matched, matched + chunk.length);
        if (!chunk.equals(expected))
          for (let j = 0; j < expected.length; j++) if (chunk[j] !== expected[j]) corruptedBytes++;
        matched += chunk.length;
        if (matched === pattern.length) socket.end();
      });
      socket.on('error', () => {});
      socket.once('close', () => {
        extraSockets.delete(socket);
        if (matched === pattern.length) completed++;
        resolve();
      });
    });
  const all: Promise<void>[] = [];
  for (let i = 0; i < slicerConnections; i++) {
    all.push(one(i));
    if (i % 100 === 99) await sleep(1);
  }
  const ticker = setInterval(() => {
    progress(
      `slicer: ${completed}/${slicerConnections} done, ${(bytesBack / 1e6).toFixed(1)} MB back, RSS ${mb(sampler.last()?.rssKiB ?? 0)} MB`,
    );
  }, 5000);
  // Slicing into single bytes is slow (one write each); the phase is about memory, so it is bounded.
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(all),
    new Promise((resolve) => (bound = setTimeout(resolve, slicerTimeMs))),
  ]);
  clearTimeout(bound);
  clearInterval(ticker);
  const seconds = (performance.now() - began) / 1000;
  sampler.stop();
  let serverAlive = true;
  let peakKiB = sampler.peakRssKiB;
  try {
    peakKiB = Math.max(peakKiB, sampler.highWaterKiB());
  } catch {
    serverAlive = false; // it died (out of memory, say): the samples taken so far are what there is
  }
  for (const socket of extraSockets) socket.destroy();
  extraSockets.clear();
  await Promise.allSettled([server.stop(), sink.stop()]);
  server = undefined;
  sink = undefined;
  samplers.length = 0;
  return {
    connections: slicerConnections,
    bytesPerConnection: slicerBytes,
    completed,
    bytesBack,
    corruptedBytes,
    serverAlive,
    seconds: round(seconds, 1),
    rssBeforeMB: mb(before.rssKiB),
    peakRssMB: mb(peakKiB),
    pass: mb(peakKiB) <= targets.slicerRssMB && corruptedBytes === 0 && serverAlive,
  };
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

function errorsText(errors: Record<string, number>): string {
  return Object.entries(errors)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');
}

function processRows(figures: ProcessFigures[]): string {
  return table([
    [
      'process',
      'RSS start MB',
      'RSS peak MB',
      'RSS end MB',
      'fds start',
      'fds peak',
      'fds end',
      'flat (RSS, fds)',
    ],
    ...figures.map((p) => [
      p.label,
      String(mb(p.start.rssKiB)),
      String(mb(p.peakRssKiB)),
      String(mb(p.end.rssKiB)),
      String(p.start.fds),
      String(p.peakFds),
      String(p.end.fds),
      `${p.rssFlat ? 'yes' : 'NO'}, ${p.fdsFlat ? 'yes' : 'NO'}`,
    ]),
  ]);
}

/** RSS and fds every tenth of the run, for the record. */
function timeline(p: ProcessFigures): string {
  const step = Math.max(1, Math.floor(p.samples.length / 10));
  const points = p.samples.filter((_, i) => i % step === 0 || i === p.samples.length - 1);
  return `${p.label}: ${points.map((s) => `${s.atS.toFixed(0)}s ${mb(s.rssKiB)}MB/${s.fds}fd`).join(', ')}`;
}

async function main(): Promise<void> {
  if (!existsSync(serverScript))
    throw new Error(`${serverScript} not found: run "npm run build" or pass --server <faultline CLI script>`);
  const limits = openFileLimits();
  // This process holds one socket per client; the proxy two per connection (plus the slicer phase's).
  const fdNeeded = concurrency + udpConcurrency + 300;
  if (limits.soft < fdNeeded) {
    const fitting = Math.max(1, limits.soft - udpConcurrency - 300);
    progress(
      `open-file limit ${limits.soft} < ${fdNeeded}: using ${fitting} connections (raise "ulimit -n")`,
    );
    concurrency = fitting;
  }
  const date = new Date().toISOString();
  const header = `faultline soak — ${date} — ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ${platform()} ${release()}, load ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`;
  progress(header);
  progress(
    `seed ${seed}; replay: node dist/bench/soak/main.js --duration ${durationMs / 1000}s --concurrency ${concurrency} --udp-concurrency ${udpConcurrency} --modes ${modes.join(',')} --phases ${[...phases].join(',')} --seed ${seed}`,
  );
  const soak = phases.has('tcp') || phases.has('udp') ? await soakPhase() : {};
  const idle = phases.has('idle') ? await idlePhase() : undefined;
  const slicer = phases.has('slicer') ? await slicerPhase() : undefined;
  await cleanup();

  const out: string[] = [header, ''];
  const checks: { name: string; ok: boolean }[] = [];
  if (soak.tcp) {
    const { figures, connections } = soak.tcp;
    out.push(
      `TCP: ${connections} connections in ${durationMs / 1000} s, up to ${concurrency} at once, through one proxy per toxic (${modes.join(' + ')} clients); lost = bytes sent that did not come back intact`,
    );
    const rows: string[][] = [];
    let totals = { connections: 0, sent: 0, back: 0, lost: 0, violations: 0 };
    for (const scenario of scenarios) {
      const perMode = figures[scenario.name] as ScenarioFigures;
      for (const mode of modes) {
        const f = perMode[mode];
        const ok = f.violations === 0 && f.lostBytes === 0;
        checks.push({ name: `tcp ${scenario.name} ${mode}`, ok });
        totals = {
          connections: totals.connections + f.connections,
          sent: totals.sent + f.bytesSent,
          back: totals.back + f.bytesReceived,
          lost: totals.lost + f.lostBytes,
          violations: totals.violations + f.violations,
        };
        rows.push([
          scenario.name,
          mode,
          scenario.expectation,
          String(f.connections),
          (f.bytesSent / 1e6).toFixed(2),
          (f.bytesReceived / 1e6).toFixed(2),
          scenario.preserving ? String(f.lostBytes) : '-',
          String(f.violations),
          errorsText(f.errors),
          verdict(ok),
        ]);
      }
    }
    rows.push([
      'total',
      '',
      '',
      String(totals.connections),
      (totals.sent / 1e6).toFixed(2),
      (totals.back / 1e6).toFixed(2),
      String(totals.lost),
      String(totals.violations),
      '',
      verdict(totals.lost === 0 && totals.violations === 0),
    ]);
    out.push(
      table([
        [
          'toxic',
          'clients',
          'promise',
          'conns',
          'MB sent',
          'MB back',
          'lost bytes',
          'broken',
          'errors',
          'result',
        ],
        ...rows,
      ]),
    );
    const examples = scenarios.flatMap((scenario) =>
      modes.flatMap((mode) =>
        (figures[scenario.name] as ScenarioFigures)[mode].examples.map((e) => `  ${scenario.name} ${e}`),
      ),
    );
    if (examples.length > 0)
      out.push('', 'Broken promises (first few per toxic and client kind):', ...examples);
  }
  if (soak.udp) {
    const { figures } = soak.udp;
    const up = figures.proxy.counters.upstream;
    const down = figures.proxy.counters.downstream;
    const sessions = figures.proxy.counters.sessions;
    out.push(
      '',
      `UDP: ${figures.clients.clients} clients (a fresh socket each, ${figures.clients.endpoints} distinct addresses) in ${durationMs / 1000} s, up to ${udpConcurrency} at once; sessions idle ${udpSessionIdleMs} ms expire`,
      `  upstream: loss 2 %, corrupt 1 %, delay 2±1 ms; downstream: duplicate 2 %, reorder 2 %, rate 20 MB/s (64 KiB queue)`,
      `  sessions: opened ${sessions.opened}, failed ${sessions.failed}, expired ${sessions.expired}, evicted ${sessions.evicted}; open at the end ${figures.proxy.sessions}${figures.proxy.lastSessionError ? `; last error: ${figures.proxy.lastSessionError}` : ''}`,
      `  datagrams: clients sent ${figures.clients.sent}, got back ${figures.clients.received} (${figures.clients.changed} changed); upstream dropped ${up.dropped} (queue ${up.queueDropped}, no session ${up.sessionDropped}), corrupted ${up.corrupted}; downstream dropped ${down.dropped} (queue ${down.queueDropped}), duplicated ${down.duplicated}, reordered ${down.reordered}`,
    );
    out.push(
      table([
        ['accounting', 'left', 'right', 'result'],
        ...figures.checks.map((c) => [c.what, String(c.left), `${c.relation} ${c.right}`, verdict(c.ok)]),
      ]),
      figures.kernel === undefined
        ? '  kernel UDP drops: /proc/net/snmp not readable, so every line across the kernel must be exact'
        : `  kernel UDP drops over the run (whole network namespace): ${figures.kernel.dropped} — InErrors ${figures.kernel.inErrors} (RcvbufErrors ${figures.kernel.rcvbufErrors}), SndbufErrors ${figures.kernel.sndbufErrors}`,
    );
    checks.push({ name: 'udp accounting', ok: figures.ok });
  }
  const processes = [soak.tcp?.process, soak.udp?.process].filter(
    (p): p is ProcessFigures => p !== undefined,
  );
  if (processes.length > 0) {
    out.push(
      '',
      `Proxy processes: RSS and descriptors sampled every ${sampleEveryMs / 1000} s; end = after the clients are gone. Flat: fds end ≤ start + ${fdSlack}, RSS end ≤ start + max(${rssSlackMB} MB, ${rssSlackShare * 100} % of the rise to the peak)`,
    );
    out.push(processRows(processes));
    for (const p of processes) {
      out.push(timeline(p));
      checks.push({ name: `${p.label} flat`, ok: p.fdsFlat && p.rssFlat });
    }
  }
  if (idle || slicer) {
    out.push('', 'RSS targets (fresh faultline server each)');
    const rows: string[][] = [];
    if (idle) {
      rows.push([
        `${idle.connections} idle connections (bench/proxy --phases rss)`,
        String(idle.rssBeforeMB),
        String(idle.rssAfterMB),
        `≤ ${targets.idleRssMB}`,
        verdict(idle.pass),
      ]);
      checks.push({ name: 'idle RSS', ok: idle.pass });
    }
    if (slicer) {
      rows.push([
        `${slicer.connections} connections × ${slicer.bytesPerConnection / 1024} KiB through slicer average_size 1, delay ${slicerDelayUs} µs (${slicer.completed} complete, ${(slicer.bytesBack / 1e6).toFixed(1)} MB back, ${slicer.corruptedBytes} bytes changed, in ${slicer.seconds} s${slicer.serverAlive ? '' : '; the server DIED'})`,
        String(slicer.rssBeforeMB),
        String(slicer.peakRssMB),
        `≤ ${targets.slicerRssMB}`,
        verdict(slicer.pass),
      ]);
      checks.push({ name: 'slicer RSS', ok: slicer.pass });
    }
    out.push(
      table([['measure', 'RSS before MB', 'RSS MB (loaded; slicer: peak)', 'target', 'result'], ...rows]),
    );
  }
  const failed = checks.filter((check) => !check.ok);
  out.push(
    '',
    `Checks: ${checks.length - failed.length} of ${checks.length} PASS${failed.length ? `; FAIL: ${failed.map((c) => c.name).join(', ')}` : ''}`,
    `(MB = 10^6 bytes; seed ${seed}; load average at end ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')})`,
  );
  console.log(out.join('\n'));
  if (options.json !== undefined) {
    const json = {
      date,
      parameters: {
        durationMs,
        concurrency,
        udpConcurrency,
        modes,
        phases: [...phases],
        seed,
        udpIo,
        udpSessionIdleMs,
        udpImpairments,
        idleCount,
        slicerConnections,
        slicerBytes,
      },
      scenarios: scenarios.map((s) => ({ name: s.name, toxics: s.toxics, preserving: s.preserving })),
      tcp: soak.tcp,
      udp: soak.udp,
      idle,
      slicer,
      checks,
      text: out.join('\n'),
    };
    writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
    progress(`wrote ${options.json}`);
  }
  clearTimeout(watchdog);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch(async (error: unknown) => {
  if (interrupted()) return;
  progress(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanup();
  process.exit(1);
});
