/**
 * Proxy benchmark: `npm run bench:proxy` (or `node dist/bench/proxy/main.js [options]`).
 *
 * Three processes: this one (the load client), the sink/echo server (sink-server.js) and the real
 * `faultline server`, driven over its Toxiproxy HTTP API. Every figure is set against the physical
 * baseline measured in the same run — the same client talking to the same sink directly over loopback —
 * and runs are interleaved in rounds and summarised by medians, because absolute times on shared
 * machines drift. See docs/performance.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanUpOnExit, interrupted, positiveInt } from '../../test/support/children.js';
import {
  backgroundLoad,
  cpuBusyFraction,
  cpuTimeMs,
  killAll,
  openFileLimits,
  type ProxyServer,
  pinProcess,
  type ReferenceRelay,
  readMemory,
  type Sink,
  startReferenceRelay,
  startServer,
  startSink,
} from './children.js';
import { bulkTransfer, destroyAllSockets, EchoClient, openIdleConnections } from './load.js';
import { median, quantile, round, table } from './stats.js';

const usage = `usage: node dist/bench/proxy/main.js [options]
  --json <path>        also write the results as JSON to <path>
  --rounds <n>         interleaved throughput rounds (each runs every mode once; default 7)
  --bulk-mb <n>        MB sent per throughput run (default 384)
  --rtt-count <n>      measured round trips per RTT mode (default 20000)
  --idle <n>           idle proxied connections for the RSS phase (default 5000)
  --phases <list>      comma-separated subset of throughput,rtt,rss (default all)
  --server <path>      faultline CLI script to run as "server" (default dist/src/cli/main.js)
  --node-arg <arg>     extra node option for the server process, repeatable (e.g. --cpu-prof)
  --pin <c>,<s>,<p>    during the RTT phase, pin the client (this process), sink and server to a CPU
                       or range ("1", "0-1"; "any" = unpinned); default 0,1,any with 2+ CPUs and
                       taskset, so the baseline is always a cross-CPU round trip; any,any,any: off
  --quick              small sizes, for a smoke test (figures not meaningful)`;

const { values: options } = parseArgs({
  options: {
    json: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    'bulk-mb': { type: 'string', default: '384' },
    'rtt-count': { type: 'string', default: '20000' },
    idle: { type: 'string', default: '5000' },
    phases: { type: 'string', default: 'throughput,rtt,rss' },
    server: { type: 'string', default: fileURLToPath(new URL('../../src/cli/main.js', import.meta.url)) },
    'node-arg': { type: 'string', multiple: true, default: [] },
    pin: { type: 'string' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (options.help) {
  console.log(usage);
  process.exit(0);
}

const quick = options.quick;
const rounds = positiveInt('rounds', quick ? '2' : options.rounds, 20, usage);
const bulkBytes = positiveInt('bulk-mb', quick ? '16' : options['bulk-mb'], 4096, usage) * 1e6;
const rttCount = positiveInt('rtt-count', quick ? '1000' : options['rtt-count'], 200_000, usage);
let idleCount = positiveInt('idle', quick ? '500' : options.idle, 20_000, usage);
const phases = new Set(options.phases.split(',').map((phase) => phase.trim()));
for (const phase of phases) {
  if (!['throughput', 'rtt', 'rss'].includes(phase)) {
    console.error(`--phases: unknown phase "${phase}"; expected throughput, rtt, rss\n${usage}`);
    process.exit(2);
  }
}
const pinText = options.pin ?? (cpus().length >= 2 && hasTaskset() ? '0,1,any' : 'any,any,any');
const pinning = pinText.split(',').map((list) => list.trim());
if (pinning.length !== 3 || pinning.some((list) => !/^(any|\d+(-\d+)?)$/.test(list))) {
  console.error(`--pin: expected <client>,<sink>,<server> CPUs such as 0,1,any; got "${pinText}"\n${usage}`);
  process.exit(2);
}
function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const [pinClient, pinSink, pinServer] = pinning as [string, string, string];
/** Pins the three processes for the RTT phase (`on`), or lets them run on every CPU again. */
function pinAll(on: boolean): void {
  const all = `0-${cpus().length - 1}`;
  const pids: [number | undefined, string][] = [
    [process.pid, pinClient],
    [sink?.pid, pinSink],
    [server?.pid, pinServer],
    [relay?.pid, pinServer],
  ];
  for (const [pid, list] of pids) {
    if (pid !== undefined && list !== 'any') pinProcess(pid, on ? list : all);
  }
}
const serverScript = options.server;
const nodeArgs = options['node-arg'];
const sinkScript = fileURLToPath(new URL('./sink-server.js', import.meta.url));
const relayScript = fileURLToPath(new URL('./reference-relay.js', import.meta.url));
const seed = 1;
const messageBytes = 64;
const rttWarmup = 500;
/** Round trips per mode before switching to the next mode; modes alternate slice by slice. */
const rttSlice = 250;
const idleBatch = 250;
/** Source addresses of the idle connections, so ephemeral ports are never short. */
const idleSources = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
/** The whole run is abandoned (and cleaned up) after this long. */
const deadlineMs = 300_000;

/** The run waits up to quietWaitS seconds for other processes to use less than quietBusy of the CPUs. */
const quietWaitS = 30;
const quietBusy = 0.2;

const targets = { throughputRatioMin: 0.7, rttMedianRatioMax: 1.8, idleRssMbMax: 150 } as const;

type Mode = 'direct' | 'nodeRelay' | 'proxy' | 'proxyLatency0';
const modes: readonly Mode[] = ['direct', 'nodeRelay', 'proxy', 'proxyLatency0'];
/** The modes that are faultline; the others are baselines. */
const faultlineModes: ReadonlySet<Mode> = new Set(['proxy', 'proxyLatency0']);
const modeLabel: Record<Mode, string> = {
  direct: 'direct loopback (baseline)',
  nodeRelay: 'bare Node.js relay (reference)',
  proxy: 'proxy, no toxics',
  proxyLatency0: 'proxy, latency 0 ms up+down',
};

const startedAt = Date.now();
function progress(message: string): void {
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${seconds}s] ${message}\n`);
}

function perMode<T>(make: () => T): Record<Mode, T> {
  return { direct: make(), nodeRelay: make(), proxy: make(), proxyLatency0: make() };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The order of the modes in round `round`: rotated by the round number and reversed every other round,
 * so each mode runs in every position and after different modes.
 */
function rotated<T>(items: readonly T[], round: number): T[] {
  const order = items.map((_, i) => items[(i + round) % items.length] as T);
  return round % 2 === 1 ? order.reverse() : order;
}

let sink: Sink | undefined;
let server: ProxyServer | undefined;
let relay: ReferenceRelay | undefined;

async function cleanup(): Promise<void> {
  destroyAllSockets();
  await Promise.allSettled([server?.stop(), sink?.stop(), relay?.stop()]);
  server = undefined;
  sink = undefined;
  relay = undefined;
  killAll();
}

const watchdog = cleanUpOnExit(cleanup, progress, deadlineMs);

interface ModeResult<T> {
  runs: T[];
}

interface ThroughputMode extends ModeResult<number> {
  medianMBps: number;
  /** Median over rounds of this mode's MB/s divided by the direct MB/s of the same round. */
  pairedRatio: number;
  /** CPU time the process in the middle (faultline server or reference relay) spent per GB moved. */
  proxyCpuMsPerGB?: number;
  /** CPU time of client + sink (+ proxy) per GB moved: what the path costs the machine. */
  totalCpuMsPerGB: number;
}

interface RttMode {
  samples: number;
  medianUs: number;
  p99Us: number;
  /** Median over slices of this mode's slice median divided by the direct median of the same slice. */
  pairedRatio: number;
}

interface TargetRow {
  name: string;
  value: number;
  target: string;
  pass: boolean;
}

async function proxyUrls(): Promise<{ bulk: Record<Mode, number>; echo: Record<Mode, number> }> {
  const s = sink as Sink;
  const p = server as ProxyServer;
  const r = relay as ReferenceRelay;
  const bulkRelay = await r.relay(s.ports.bulk);
  const echoRelay = await r.relay(s.ports.echo);
  const bulkProxy = await p.createProxy('bench_bulk', s.ports.bulk);
  const bulkToxic = await p.createProxy('bench_bulk_latency0', s.ports.bulk);
  const echoProxy = await p.createProxy('bench_echo', s.ports.echo);
  const echoToxic = await p.createProxy('bench_echo_latency0', s.ports.echo);
  for (const name of ['bench_bulk_latency0', 'bench_echo_latency0']) {
    await p.addZeroLatency(name, 'upstream');
    await p.addZeroLatency(name, 'downstream');
  }
  return {
    bulk: { direct: s.ports.bulk, nodeRelay: bulkRelay, proxy: bulkProxy, proxyLatency0: bulkToxic },
    echo: { direct: s.ports.echo, nodeRelay: echoRelay, proxy: echoProxy, proxyLatency0: echoToxic },
  };
}

async function throughputPhase(ports: Record<Mode, number>): Promise<Record<Mode, ThroughputMode>> {
  const pid = (server as ProxyServer).pid;
  const sinkPid = (sink as Sink).pid;
  const runs = perMode<number[]>(() => []);
  const cpu = perMode(() => ({ proxyMs: 0, totalMs: 0, bytes: 0 }));
  const relayPid = (relay as ReferenceRelay).pid;
  /** The process in the middle of a mode's path, if any. */
  const middle = (mode: Mode): number | undefined =>
    mode === 'direct' ? undefined : mode === 'nodeRelay' ? relayPid : pid;
  const clientMs = (): number => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  };
  const timeoutMs = Math.max(30_000, bulkBytes / 20_000); // never slower than 20 MB/s
  progress(`throughput: warm-up (${bulkBytes / 4e6} MB per mode)`);
  for (const mode of modes) await bulkTransfer(ports[mode], bulkBytes / 4, timeoutMs);
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    for (const mode of rotated(modes, r)) {
      const middlePid = middle(mode);
      const middleMs = (): number => (middlePid === undefined ? 0 : cpuTimeMs(middlePid));
      const before = { proxy: middleMs(), sink: cpuTimeMs(sinkPid), client: clientMs() };
      const result = await bulkTransfer(ports[mode], bulkBytes, timeoutMs);
      const proxyMs = middleMs() - before.proxy;
      cpu[mode].proxyMs += proxyMs;
      cpu[mode].totalMs += proxyMs + cpuTimeMs(sinkPid) - before.sink + clientMs() - before.client;
      cpu[mode].bytes += result.bytes;
      const mbps = result.bytes / 1e6 / result.seconds;
      runs[mode].push(mbps);
      line.push(`${mode} ${mbps.toFixed(0)} MB/s`);
    }
    progress(`throughput round ${r + 1}/${rounds}: ${line.join(', ')}`);
  }
  const result = {} as Record<Mode, ThroughputMode>;
  for (const mode of modes) {
    const paired = runs[mode].map((v, i) => v / (runs.direct[i] as number));
    const entry: ThroughputMode = {
      runs: runs[mode].map((v) => round(v, 1)),
      medianMBps: round(median(runs[mode]), 1),
      pairedRatio: round(median(paired), 3),
      totalCpuMsPerGB: round(cpu[mode].totalMs / (cpu[mode].bytes / 1e9), 0),
    };
    if (mode !== 'direct') entry.proxyCpuMsPerGB = round(cpu[mode].proxyMs / (cpu[mode].bytes / 1e9), 0);
    result[mode] = entry;
  }
  return result;
}

async function rttPhase(ports: Record<Mode, number>): Promise<Record<Mode, RttMode>> {
  const samples = perMode<number[]>(() => []);
  const sliceMedians = perMode<number[]>(() => []);
  const clients = {} as Record<Mode, EchoClient>;
  pinAll(true);
  try {
    for (const mode of modes) {
      clients[mode] = new EchoClient(ports[mode], messageBytes);
      await clients[mode].connect(5000);
      await clients[mode].run(rttWarmup, 30_000);
    }
    const slices = Math.ceil(rttCount / rttSlice);
    progress(
      `echo RTT: ${rttCount} round trips per mode (${messageBytes}-byte messages) in ${slices} interleaved slices of ${rttSlice}`,
    );
    for (let slice = 0; slice < slices; slice++) {
      for (const mode of rotated(modes, slice)) {
        const rtts = await clients[mode].run(Math.min(rttSlice, rttCount - slice * rttSlice), 30_000);
        samples[mode].push(...rtts);
        sliceMedians[mode].push(median(rtts));
      }
      if ((slice + 1) % Math.ceil(slices / 4) === 0 || slice === slices - 1) {
        const line = modes.map((mode) => `${mode} ${median(samples[mode]).toFixed(1)} µs`).join(', ');
        progress(`echo RTT ${slice + 1}/${slices} slices, medians so far: ${line}`);
      }
    }
  } finally {
    for (const client of Object.values(clients)) client.close();
    pinAll(false);
  }
  const result = {} as Record<Mode, RttMode>;
  for (const mode of modes) {
    result[mode] = {
      samples: samples[mode].length,
      medianUs: round(median(samples[mode]), 1),
      p99Us: round(quantile(samples[mode], 0.99), 1),
      pairedRatio: round(median(sliceMedians[mode].map((v, i) => v / (sliceMedians.direct[i] as number))), 3),
    };
  }
  return result;
}

interface IdleRss {
  rssBeforeMB: number;
  rssAfterMB: number;
  peakRssMB: number;
  perConnectionKB: number;
  openSeconds: number;
}

interface RssResult {
  connections: number;
  proxySockets: number;
  faultline: IdleRss;
  /** The same measurement on a fresh bare Node.js relay, for reference. */
  nodeRelay: IdleRss;
}

/** Opens the idle connections through `port` and reads the RSS of `pid` (the process in the middle). */
async function measureIdle(label: string, pid: number, port: number): Promise<IdleRss> {
  const s = sink as Sink;
  await sleep(500);
  const before = readMemory(pid);
  progress(
    `idle RSS, ${label}: RSS before ${(before.rssKiB / 1024).toFixed(1)} MiB; opening ${idleCount} connections`,
  );
  const openStart = Date.now();
  await openIdleConnections(
    port,
    idleCount,
    idleBatch,
    idleSources,
    async (total) => {
      const until = Date.now() + 20_000;
      for (;;) {
        const held = await s.held();
        if (held >= total) return;
        if (Date.now() > until)
          throw new Error(`sink holds ${held} of ${total} relayed connections after 20 s`);
        await sleep(10);
      }
    },
    (total) => {
      if (total % 2500 === 0 || total === idleCount) {
        progress(`idle RSS, ${label}: ${total}/${idleCount} established end to end`);
      }
    },
  );
  const openSeconds = (Date.now() - openStart) / 1000;
  await sleep(1000);
  const after = readMemory(pid);
  progress(
    `idle RSS, ${label}: RSS with ${idleCount} connections ${(after.rssKiB / 1024).toFixed(1)} MiB; closing`,
  );
  destroyAllSockets();
  const until = Date.now() + 10_000;
  while ((await s.held()) > 0 && Date.now() < until) await sleep(50);
  const mb = (kib: number): number => round((kib * 1024) / 1e6, 1);
  return {
    rssBeforeMB: mb(before.rssKiB),
    rssAfterMB: mb(after.rssKiB),
    peakRssMB: mb(after.hwmKiB),
    perConnectionKB: round(((after.rssKiB - before.rssKiB) * 1024) / 1e3 / idleCount, 1),
    openSeconds: round(openSeconds, 1),
  };
}

async function rssPhase(): Promise<RssResult> {
  const s = sink as Sink;
  // Fresh processes, so the figures are not inflated by the earlier phases' buffers.
  await Promise.all([server?.stop(), relay?.stop()]);
  relay = undefined;
  progress('idle RSS: starting a fresh faultline server');
  server = await startServer(serverScript, nodeArgs, seed);
  const faultline = await measureIdle(
    'faultline',
    server.pid,
    await server.createProxy('bench_idle', s.ports.hold),
  );
  await server.stop();
  server = undefined;
  relay = await startReferenceRelay(relayScript);
  const nodeRelay = await measureIdle('bare Node.js relay', relay.pid, await relay.relay(s.ports.hold));
  return { connections: idleCount, proxySockets: 2 * idleCount, faultline, nodeRelay };
}

/** A note on how much CPU other processes took during a phase. */
function noise(fraction: number | undefined): string {
  if (fraction === undefined) return '';
  const text = `; other processes used ${(fraction * 100).toFixed(0)}% of the CPUs meanwhile`;
  return fraction >= quietBusy ? `${text} — NOISY, rerun on a quiet machine` : text;
}

function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

async function main(): Promise<void> {
  if (!existsSync(serverScript)) {
    throw new Error(
      `${serverScript} not found: build with "npx tsc -p ." or pass --server <faultline CLI script>`,
    );
  }
  const limits = openFileLimits();
  // The proxy holds 2 sockets per idle connection; this process and the sink 1 each.
  const fdNeeded = 2 * idleCount + 200;
  if (phases.has('rss') && limits.soft < fdNeeded) {
    const fitting = Math.floor((limits.soft - 200) / 2);
    progress(
      `open-file limit ${limits.soft} < ${fdNeeded}: using ${fitting} idle connections (raise "ulimit -n")`,
    );
    idleCount = fitting;
  }
  progress(
    `waiting up to ${quietWaitS} s for the machine to be quiet (other processes < ${quietBusy * 100}% CPU)`,
  );
  let busy = await cpuBusyFraction(1000);
  let waitedS = 1;
  while (busy >= quietBusy && waitedS < quietWaitS) {
    busy = await cpuBusyFraction(1000);
    waitedS++;
  }
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    os: `${platform()} ${release()}`,
    openFileLimit: limits.soft,
    loadAverageAtStart: loadavg().map((v) => round(v, 2)),
    cpuBusyBeforeStart: round(busy, 3),
    quietWaitSeconds: waitedS,
  };
  progress(
    `faultline proxy benchmark: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  if (busy >= quietBusy) {
    progress(
      `warning: other processes still use ${(busy * 100).toFixed(0)}% of the CPUs; expect noisy figures`,
    );
  }
  progress(`server: node ${[...nodeArgs, serverScript].join(' ')} server --seed ${seed}`);
  progress(`CPU pinning in the RTT phase: client ${pinClient}, sink ${pinSink}, server ${pinServer}`);

  sink = await startSink(sinkScript);
  server = await startServer(serverScript, nodeArgs, seed);
  relay = await startReferenceRelay(relayScript);
  progress(`reference relay pid ${relay.pid}`);
  progress(`sink pid ${sink.pid}, faultline server pid ${server.pid} (API port ${server.apiPort})`);
  const ports = await proxyUrls();

  const ours = (): number[] => [
    (sink as Sink).pid,
    (server as ProxyServer).pid,
    (relay as ReferenceRelay).pid,
  ];
  const background: { throughput?: number; rtt?: number } = {};
  let throughput: Record<Mode, ThroughputMode> | undefined;
  if (phases.has('throughput')) {
    const load = backgroundLoad(ours);
    throughput = await throughputPhase(ports.bulk);
    background.throughput = round(load.stop(), 3);
  }
  let rtt: Record<Mode, RttMode> | undefined;
  if (phases.has('rtt')) {
    const load = backgroundLoad(ours);
    rtt = await rttPhase(ports.echo);
    background.rtt = round(load.stop(), 3);
  }
  const rss = phases.has('rss') ? await rssPhase() : undefined;
  await cleanup();

  const rows: TargetRow[] = [];
  const out: string[] = [];
  const date = new Date().toISOString();
  out.push(
    `faultline proxy benchmark — ${date} — ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, ${machine.os}`,
  );
  if (throughput) {
    const base = throughput.direct.medianMBps;
    out.push(
      '',
      `Throughput: client → sink, ${bulkBytes / 1e6} MB per run, ${rounds} interleaved rounds, median${noise(background.throughput)}`,
    );
    const body = modes.map((mode) => {
      const t = throughput[mode];
      const ratio = t.medianMBps / base;
      const pass = ratio >= targets.throughputRatioMin;
      const judged = faultlineModes.has(mode);
      if (judged) {
        rows.push({
          name: `throughput ${modeLabel[mode]} / direct`,
          value: round(ratio, 2),
          target: `≥ ${targets.throughputRatioMin}`,
          pass,
        });
      }
      return [
        modeLabel[mode],
        fmt(t.medianMBps),
        `${fmt(Math.min(...t.runs))}–${fmt(Math.max(...t.runs))}`,
        fmt(ratio, 2),
        judged ? fmt(t.medianMBps / throughput.nodeRelay.medianMBps, 2) : '',
        judged ? `≥ ${targets.throughputRatioMin}` : '',
        judged ? (pass ? 'PASS' : 'FAIL') : '',
        t.proxyCpuMsPerGB === undefined ? '' : fmt(t.proxyCpuMsPerGB),
        fmt(t.totalCpuMsPerGB),
      ];
    });
    out.push(
      table([
        [
          'mode',
          'MB/s',
          'range',
          'ratio',
          'vs Node relay',
          'target',
          'result',
          'relay CPU ms/GB',
          'all CPU ms/GB',
        ],
        ...body,
      ]),
    );
  }
  if (rtt) {
    const base = rtt.direct.medianUs;
    out.push(
      '',
      `Echo round trip: ${messageBytes}-byte messages one at a time, ${rttCount} per mode after ${rttWarmup} warm-up, modes alternating every ${rttSlice}${noise(background.rtt)}`,
    );
    const body = modes.map((mode) => {
      const t = rtt[mode];
      const ratio = t.medianUs / base;
      const pass = ratio <= targets.rttMedianRatioMax;
      const judged = faultlineModes.has(mode);
      if (judged) {
        rows.push({
          name: `RTT median ${modeLabel[mode]} / direct`,
          value: round(ratio, 2),
          target: `≤ ${targets.rttMedianRatioMax}`,
          pass,
        });
      }
      return [
        modeLabel[mode],
        String(t.samples),
        fmt(t.medianUs, 1),
        fmt(t.p99Us, 1),
        fmt(ratio, 2),
        fmt(t.p99Us / rtt.direct.p99Us, 2),
        judged ? fmt(t.medianUs / rtt.nodeRelay.medianUs, 2) : '',
        judged ? `≤ ${targets.rttMedianRatioMax}` : '',
        judged ? (pass ? 'PASS' : 'FAIL') : '',
      ];
    });
    out.push(
      table([
        [
          'mode',
          'n',
          'median µs',
          'p99 µs',
          'median ratio',
          'p99 ratio',
          'vs Node relay',
          'target',
          'result',
        ],
        ...body,
      ]),
    );
  }
  if (rss) {
    const f = rss.faultline;
    const n = rss.nodeRelay;
    const pass = f.rssAfterMB <= targets.idleRssMbMax;
    rows.push({
      name: `proxy RSS, ${rss.connections} idle connections (MB)`,
      value: f.rssAfterMB,
      target: `≤ ${targets.idleRssMbMax}`,
      pass,
    });
    out.push(
      '',
      `Process RSS with ${rss.connections} idle relayed connections (${rss.proxySockets} sockets in the process), fresh processes`,
    );
    out.push(
      table([
        ['measure', 'faultline', 'Node relay', 'target', 'result'],
        ['RSS before, MB', fmt(f.rssBeforeMB, 1), fmt(n.rssBeforeMB, 1), '', ''],
        [
          `RSS with ${rss.connections} connections, MB`,
          fmt(f.rssAfterMB, 1),
          fmt(n.rssAfterMB, 1),
          `≤ ${targets.idleRssMbMax}`,
          pass ? 'PASS' : 'FAIL',
        ],
        ['peak RSS (VmHWM), MB', fmt(f.peakRssMB, 1), fmt(n.peakRssMB, 1), '', ''],
        ['RSS growth per connection, kB', fmt(f.perConnectionKB, 1), fmt(n.perConnectionKB, 1), '', ''],
        ['time to open all, s', fmt(f.openSeconds, 1), fmt(n.openSeconds, 1), '', ''],
      ]),
    );
  }
  const failed = rows.filter((row) => !row.pass).length;
  out.push('', `Targets: ${rows.length - failed} of ${rows.length} PASS${failed ? `, ${failed} FAIL` : ''}`);
  out.push(
    `(MB = 10^6 bytes; RTT phase pinning client ${pinClient}, sink ${pinSink}, server ${pinServer}; other processes' CPU before start ${(machine.cpuBusyBeforeStart * 100).toFixed(0)}%; load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')})`,
  );
  console.log(out.join('\n'));

  if (options.json !== undefined) {
    const json = {
      date,
      machine: { ...machine, loadAverageAtEnd: loadavg().map((v) => round(v, 2)) },
      /** Fraction of all CPUs' time used by processes other than the benchmark's during each phase. */
      backgroundCpu: background,
      parameters: {
        rounds,
        bulkBytesPerRun: bulkBytes,
        rttCount,
        rttSlice,
        rttWarmup,
        messageBytes,
        idleConnections: idleCount,
        server: serverScript,
        nodeArgs,
        seed,
        pin: { client: pinClient, sink: pinSink, server: pinServer },
        quick,
      },
      targets,
      throughput,
      rtt,
      rss,
      results: rows,
      text: out.join('\n'),
    };
    writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
    progress(`wrote ${options.json}`);
  }
  clearTimeout(watchdog);
}

main().catch(async (error: unknown) => {
  if (interrupted()) return;
  progress(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await cleanup();
  process.exit(1);
});
