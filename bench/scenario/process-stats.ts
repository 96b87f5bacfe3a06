/**
 * Loaded with `node --import` into a process the benchmark measures. At exit it writes, as JSON, to the
 * file named by FAULTLINE_BENCH_STATS_FILE: the process's peak resident set (VmHWM, kB, from
 * /proc/self/status), the peak so far at the start of each run phase (`phase` events), which tells which
 * phase raised it, and the CPU time it used (user + system, ms: steadier than wall time on a busy machine).
 */
import { subscribe } from 'node:diagnostics_channel';
import { readFileSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { eventChannelNames } from '../../src/core/events.js';

const file = process.env.FAULTLINE_BENCH_STATS_FILE;

function peakKb(): number | undefined {
  const peak = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return peak === undefined ? undefined : Number(peak);
}

// Workers inherit `--import`; the process's peak is the main thread's to report.
if (file !== undefined && isMainThread) {
  const atPhaseStart: Record<string, number | undefined> = {};
  subscribe(eventChannelNames.phase, (message) => {
    const { name, state } = message as { name: string; state: string };
    if (state === 'start') atPhaseStart[name] = peakKb();
  });
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    writeFileSync(
      file,
      JSON.stringify({ peakKb: peakKb(), peakKbAtPhaseStart: atPhaseStart, cpuMs: (user + system) / 1000 }),
    );
  });
}
