/**
 * UDP proxy benchmark: `npm run bench:udp` (or `node dist/bench/udp/main.js [options]`).
 *
 * Three processes: this one (the load client), the sink (sink.js, counts datagrams) and the proxy
 * (proxy-child.js, a UdpProxy). The client sends 64-byte datagrams open loop, as fast as it can, for a
 * fixed time; the figure is the rate at which the sink receives them. Modes: direct to the sink (the
 * physical baseline of the same run), through a proxy with no impairments (its default I/O, batched
 * where the native addon is built), the same over node:dgram, and through a proxy with 50 % loss and
 * 5 ± 2 ms jitter. Rounds are interleaved and summarised by medians; the ratio is taken
 * against the direct run of the same round. See docs/performance.md.
 */
import { cpus, loadavg, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cleanUpOnExit, interrupted, positiveInt } from '../../test/support/children.js';
import { killAll, type ProxyChild, type Sink, startProxy, startSink } from './children.js';
import { Blaster } from './load.js';

const usage = `usage: node dist/bench/udp/main.js [options]
  --rounds <n>     interleaved rounds (each runs every mode once; default 7)
  --run-ms <n>     sending time per run, ms (default 1500)
  --bytes <n>      datagram payload size (default 64)
  --quick          2 rounds of 500 ms, for a smoke test (figures not meaningful)`;

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    'run-ms': { type: 'string', default: '1500' },
    bytes: { type: 'string', default: '64' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(usage);
  process.exit(0);
}
const rounds = positiveInt('rounds', options.quick ? '2' : options.rounds, 15, usage);
const runMs = positiveInt('run-ms', options.quick ? '500' : options['run-ms'], 5000, usage);
const bytes = positiveInt('bytes', options.bytes, 1400, usage);
const drainMs = 250;
const target = 0.7;

type Mode = 'direct' | 'proxy' | 'dgram' | 'lossy';
const modes: readonly Mode[] = ['direct', 'proxy', 'dgram', 'lossy'];
const label: Record<Mode, string> = {
  direct: 'direct loopback (baseline)',
  proxy: 'proxy, no impairments',
  dgram: 'proxy, no impairments, io dgram',
  lossy: 'proxy, 50 % loss + 5±2 ms jitter',
};
const lossy = { loss: { probability: 0.5 }, delay: { ms: 5, jitterMs: 2 } };

const startedAt = Date.now();
function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

let sink: Sink | undefined;
const proxies: ProxyChild[] = [];
let blaster: Blaster | undefined;

async function cleanup(): Promise<void> {
  blaster?.close();
  blaster = undefined;
  await Promise.allSettled([...proxies.map((p) => p.stop()), sink?.stop()]);
  proxies.length = 0;
  sink = undefined;
  killAll();
}
// A safety net, not a target: twice the time the runs should take, plus start-up.
const deadlineMs = 30_000 + 2 * (rounds + 1) * modes.length * (runMs + drainMs + 200);
const watchdog = cleanUpOnExit(cleanup, progress, deadlineMs);

async function measure(port: number): Promise<{ receivedPerSec: number; sentPerSec: number }> {
  const s = sink as Sink;
  const before = await s.count();
  const { sent, seconds } = await (blaster as Blaster).run(port, runMs, bytes);
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  const received = (await s.count()) - before;
  return { receivedPerSec: received / seconds, sentPerSec: sent / seconds };
}

async function main(): Promise<void> {
  const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));
  console.log(
    `UDP proxy benchmark: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, ${platform()} ${release()}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`${bytes}-byte datagrams, ${rounds} interleaved rounds of ${runMs} ms per mode, seed 1`);
  sink = await startSink(here('./sink.js'));
  const clean = await startProxy(here('./proxy-child.js'), sink.port);
  const dgram = await startProxy(here('./proxy-child.js'), sink.port, { io: 'dgram' });
  const impaired = await startProxy(here('./proxy-child.js'), sink.port, { impairments: lossy });
  proxies.push(clean, dgram, impaired);
  console.log(
    `proxy io: ${clean.io}${clean.io === 'batch' ? ' (recvmmsg/sendmmsg + UDP GSO)' : ' (native addon not built)'}`,
  );
  blaster = await Blaster.open();
  const ports: Record<Mode, number> = {
    direct: sink.port,
    proxy: clean.port,
    dgram: dgram.port,
    lossy: impaired.port,
  };
  progress('warm-up');
  for (const mode of modes) await (blaster as Blaster).run(ports[mode], 300, bytes);
  await new Promise((resolve) => setTimeout(resolve, drainMs));
  const runs: Record<Mode, number[]> = { direct: [], proxy: [], dgram: [], lossy: [] };
  const sentRuns: Record<Mode, number[]> = { direct: [], proxy: [], dgram: [], lossy: [] };
  for (let round = 0; round < rounds; round++) {
    const order = modes.map((_, i) => modes[(i + round) % modes.length] as Mode);
    const line: string[] = [];
    for (const mode of order) {
      const { receivedPerSec, sentPerSec } = await measure(ports[mode]);
      runs[mode].push(receivedPerSec);
      sentRuns[mode].push(sentPerSec);
      line.push(`${mode} ${(receivedPerSec / 1000).toFixed(0)}k/s`);
    }
    progress(`round ${round + 1}/${rounds}: ${line.join(', ')}`);
  }
  const ratio = (mode: Mode): number =>
    median(runs[mode].map((value, i) => value / (runs.direct[i] as number)));
  const rows = modes.map((mode) => {
    const r = ratio(mode);
    const verdict =
      mode === 'proxy' ? (r >= target ? 'PASS' : 'FAIL') : mode === 'direct' ? 'baseline' : 'info';
    return [
      label[mode],
      (median(sentRuns[mode]) / 1000).toFixed(0),
      (median(runs[mode]) / 1000).toFixed(0),
      `${r.toFixed(2)}×`,
      { direct: '-', proxy: `≥ ${target}× direct`, dgram: '-', lossy: '≈ 0.5× proxy' }[mode],
      verdict,
    ];
  });
  const header = ['mode', 'sent k/s', 'received k/s (median)', 'vs direct', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const format = (cells: readonly string[]): string =>
    cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(' | ');
  console.log('');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(format(row));
  const lossShare = median(runs.lossy.map((value, i) => value / (runs.proxy[i] as number)));
  console.log(
    `\nlossy / clean proxy received: ${lossShare.toFixed(2)}× (50 % loss → 0.5× when the proxy keeps up)`,
  );
}

main()
  .catch((error: unknown) => {
    if (interrupted()) return;
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    clearTimeout(watchdog);
  });
