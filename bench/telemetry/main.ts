/**
 * Tracing cost: `npm run bench:telemetry` (or `node dist/bench/telemetry/main.js [options]`).
 *
 * Proxy throughput during a real scenario run with spans on, against the same run with spans off, in
 * the same process (issue 12: within 5 %). The run: a `tcp-proxy` target in front of the bulk sink
 * (bench/proxy/sink-server.js, its own process), a latency toxic injected and healed 10 times a second
 * and a continuous tcp probe every 50 ms — many spans — while this process pushes bulk transfers through
 * the proxy for the whole method. With spans on, a RunTracer exports over OTLP http/protobuf to a
 * receiver on loopback (in this process too, so its cost is counted). Runs alternate off/on in rounds;
 * medians are compared, because absolute rates on a shared machine drift. See docs/performance.md.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { subscribe } from '../../src/core/events.js';
import { loadScenario } from '../../src/scenario/index.js';
import { runScenario } from '../../src/scenario/runner.js';
import { startOtlpReceiver, startRunTracer } from '../../src/telemetry/index.js';
import { positiveInt } from '../../test/support/children.js';
import { freePort, killAll, startSink } from '../proxy/children.js';
import { bulkTransfer } from '../proxy/load.js';
import { median, round, table } from '../proxy/stats.js';

const usage = `usage: node dist/bench/telemetry/main.js [options]
  --rounds <n>        rounds, each one run with spans off and one with spans on (default 5)
  --duration-ms <n>   each run's method (default 3000)
  --bulk-mb <n>       MB per bulk transfer; transfers repeat through the method (default 32)`;

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    'duration-ms': { type: 'string', default: '3000' },
    'bulk-mb': { type: 'string', default: '32' },
    help: { type: 'boolean', default: false },
  },
});
if (options.help) {
  console.log(usage);
  process.exit(0);
}
const rounds = positiveInt('rounds', options.rounds, 50, usage);
const durationMs = positiveInt('duration-ms', options['duration-ms'], 600_000, usage);
const bulkBytes = positiveInt('bulk-mb', options['bulk-mb'], 1024, usage) * 1e6;

const sinkScript = fileURLToPath(new URL('../proxy/sink-server.js', import.meta.url));

function scenarioText(listenPort: number, sinkPort: number): string {
  return `
[experiment]
name = "tracing cost"
seed = 1
timeLimit = "${durationMs + 60_000}ms"
duration = "${durationMs}ms"

[targets.front]
type = "tcp-proxy"
listen = "127.0.0.1:${listenPort}"
upstream = "127.0.0.1:${sinkPort}"

[[steadyState]]
name = "sink"
probe = { type = "tcp", address = "127.0.0.1:${sinkPort}" }
when = "continuous"
every = "50ms"

[[faults]]
kind = "tcp.latency"
at = "0s"
every = "100ms"
for = "50ms"
params = { proxy = "front", latencyMs = 1 }

[[checks]]
check = "probe-success"
probe = "sink"
minPercent = 90
`;
}

interface RunFigures {
  readonly mbPerSec: number;
  readonly spans: number;
  readonly faults: number;
}

async function oneRun(traced: boolean, listenPort: number, scenarioFile: string): Promise<RunFigures> {
  const receiver = traced ? await startOtlpReceiver({ maxSpans: 100_000 }) : undefined;
  const tracer =
    receiver === undefined
      ? undefined
      : await startRunTracer({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }, maxSpans: 100_000 });
  let inMethod = false;
  let bytes = 0;
  let seconds = 0;
  let load: Promise<void> | undefined;
  let loadError: unknown;
  const stop = subscribe(
    (event) => {
      if (event.type !== 'phase' || event.name !== 'method') return;
      inMethod = event.state === 'start';
      if (!inMethod) return;
      load = (async () => {
        while (inMethod) {
          const result = await bulkTransfer(listenPort, bulkBytes, 60_000);
          bytes += result.bytes;
          seconds += result.seconds;
        }
      })().catch((error: unknown) => {
        // The transfer running when the method ends may be cut by the proxy stopping at cleanup.
        if (inMethod) loadError = error;
      });
    },
    ['phase'],
  );
  let faults = 0;
  try {
    const scenario = await loadScenario(scenarioFile);
    const result = await runScenario(scenario, {
      ...(tracer === undefined ? {} : { tracer }),
    });
    if (result.verdict !== 'pass') throw new Error(`the run did not pass: ${result.reason}`);
    faults = result.injections.length;
  } finally {
    stop();
    inMethod = false;
  }
  await load;
  if (loadError !== undefined) throw loadError;
  const closed = await tracer?.close();
  if (closed !== undefined && !closed.exported) throw new Error(`export failed: ${closed.error}`);
  const spans = tracer?.finishedSpans().length ?? 0;
  await receiver?.close();
  return { mbPerSec: seconds === 0 ? 0 : bytes / 1e6 / seconds, spans, faults };
}

async function main(): Promise<void> {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const sink = await startSink(sinkScript);
  const dir = await mkdtemp(join(tmpdir(), 'faultline-bench-telemetry-'));
  try {
    console.log(
      `tracing cost: ${rounds} rounds × (off, on), method ${durationMs} ms, ${bulkBytes / 1e6} MB transfers; ` +
        `${cpus().length} CPUs, load ${loadavg()
          .map((v) => v.toFixed(2))
          .join(' ')}`,
    );
    const off: RunFigures[] = [];
    const on: RunFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so drift over the run does not favour one mode.
      for (const traced of round % 2 === 0 ? [false, true] : [true, false]) {
        const port = await freePort();
        const file = join(dir, `run-${round}-${traced ? 'on' : 'off'}.toml`);
        await writeFile(file, scenarioText(port, sink.ports.bulk));
        const figures = await oneRun(traced, port, file);
        (traced ? on : off).push(figures);
        console.log(
          `  round ${round + 1} spans ${traced ? 'on ' : 'off'}: ${round2(figures.mbPerSec)} MB/s, ` +
            `${figures.faults} faults, ${figures.spans} spans`,
        );
      }
    }
    const offMedian = median(off.map((f) => f.mbPerSec));
    const onMedian = median(on.map((f) => f.mbPerSec));
    const ratio = onMedian / offMedian;
    console.log(
      table([
        ['spans', 'median MB/s', 'faults per run', 'spans per run'],
        ['off', String(round2(offMedian)), String(median(off.map((f) => f.faults))), '0'],
        [
          'on (OTLP http/protobuf)',
          String(round2(onMedian)),
          String(median(on.map((f) => f.faults))),
          String(median(on.map((f) => f.spans))),
        ],
      ]),
    );
    console.log(
      `throughput with spans on / off: ${round(ratio, 3)} (target ≥ 0.95): ${ratio >= 0.95 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await sink.stop();
    await killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

function round2(value: number): number {
  return round(value, 1);
}

await main();
