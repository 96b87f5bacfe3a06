// A synthetic journal of a long run, for the report's size and speed (test/report/report.test.ts and
// bench/report/main.ts): `calls` calls (an invocation and a completion each) on 8 processes over a key-value
// history, probes every 100 ms, faults every 10 s, a failed linearizability check naming two ops and an
// acked-writes check with thousands of lost writes.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { journalLine } from '../../src/report/index.js';

export async function writeSyntheticJournal(path: string, calls: number): Promise<void> {
  const out = createWriteStream(path);
  let text = '';
  const line = async (record: unknown): Promise<void> => {
    text += `${journalLine(record)}\n`;
    if (text.length > 1 << 16) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  };
  const processes = 8;
  const runMs = Math.max(1_000, calls * 0.6); // 100,000 calls: a minute
  const startMs = 100;
  const methodMs = startMs + 50;
  await line({
    type: 'journal',
    version: 1,
    faultline: '0.1.0',
    scenario: { file: 'synthetic.toml', name: 'synthetic', tags: ['chaos'] },
    seed: 42,
    startedAt: '2026-01-01T00:00:00.000Z',
    replay: 'faultline run --seed 42 synthetic.toml',
  });
  await line({ type: 'run', state: 'start', scenario: 'synthetic', seed: 42, atMs: startMs });
  await line({ type: 'phase', name: 'method', state: 'start', atMs: methodMs });
  const perProcess = Math.ceil(calls / processes);
  const stepNs = (runMs * 1e6) / perProcess;
  let index = 0;
  let nextProbeMs = 0;
  let nextFaultMs = 5_000;
  let faultId = 1;
  const open: { id: number; healMs: number }[] = [];
  for (let round = 0; round < perProcess; round++) {
    const tNs = round * stepNs;
    const tMs = methodMs + tNs / 1e6;
    while (nextProbeMs <= tMs - methodMs) {
      const ok = !open.length || Math.floor(nextProbeMs / 100) % 7 !== 0;
      await line({
        type: 'probe',
        name: 'health',
        ok,
        durationMs: 1.5,
        atMs: methodMs + nextProbeMs,
        ...(ok ? {} : { error: 'refused' }),
      });
      nextProbeMs += 100;
    }
    if (tMs - methodMs >= nextFaultMs) {
      await line({
        type: 'fault.inject',
        id: faultId,
        kind: 'tcp.latency',
        label: `latency ${faultId}`,
        params: { latencyMs: 50 },
        atMs: tMs,
      });
      open.push({ id: faultId++, healMs: tMs + 2_000 });
      nextFaultMs += 10_000;
    }
    while (open.length > 0 && (open[0] as { healMs: number }).healMs <= tMs) {
      const fault = open.shift() as { id: number };
      await line({ type: 'fault.heal', id: fault.id, label: `latency ${fault.id}`, atMs: tMs });
    }
    for (let p = 0; p < processes && index / 2 < calls; p++) {
      const key = `k${(round * processes + p) % 5000}`;
      const f = p % 2 === 0 ? 'write' : 'read';
      const time = Math.round(tNs + p * 1000);
      await line({
        type: 'op',
        op: {
          process: p,
          type: 'invoke',
          f,
          value: [key, f === 'write' ? round : null],
          time,
          index: index++,
        },
      });
      const latencyNs = 2e6 + ((round * 7 + p * 13) % 50) * 1e5;
      const type = round % 97 === 0 ? 'info' : 'ok';
      await line({
        type: 'op',
        op: {
          process: p,
          type,
          f,
          value: [key, round],
          time: time + Math.round(Math.min(latencyNs, stepNs - 2000)),
          index: index++,
        },
      });
    }
  }
  const endMs = methodMs + runMs;
  await line({ type: 'phase', name: 'method', state: 'end', atMs: endMs });
  const lost = Array.from({ length: 20 }, (_, i) => ({
    type: 'lost',
    message: `k${i} = ${i}, acknowledged at ${i} ms`,
  }));
  await line({
    type: 'check',
    checker: 'acked-writes',
    valid: false,
    anomalyCount: 4000,
    anomalies: lost,
    stats: { lost: 4000 },
    atMs: endMs + 10,
  });
  const mid = Math.floor(index / 2) & ~1;
  await line({
    type: 'check',
    checker: 'linearizability',
    valid: false,
    anomalyCount: 1,
    anomalies: [
      {
        type: 'non-linearizable',
        message: `not linearizable in partition "k7": write ["k7",1] by process 0 (op ${mid}); read ["k7",null] by process 1 (op ${mid + 8002})`,
      },
    ],
    stats: { ops: index, elapsedMs: 900 },
    atMs: endMs + 20,
  });
  await line({
    type: 'run',
    state: 'end',
    scenario: 'synthetic',
    seed: 42,
    verdict: 'fail',
    reason: 'lost writes',
    ops: calls,
    elapsedMs: runMs,
    atMs: endMs + 30,
  });
  await line({
    type: 'verdict',
    verdict: 'fail',
    reason: 'lost writes',
    elapsedMs: runMs,
    ops: calls,
    checks: [
      { checker: 'acked-writes', valid: false, anomalyCount: 4000 },
      { checker: 'linearizability', valid: false, anomalyCount: 1 },
    ],
    events: 0,
    endedAt: '2026-01-01T00:01:00.000Z',
  });
  out.end(text);
  await once(out, 'finish');
}
