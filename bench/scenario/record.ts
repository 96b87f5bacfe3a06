/**
 * What recording costs per op: the same sequential loop of `ops` calls to a client function that answers
 * at once, bare (the baseline) and through the History `Recorder` the scenario workloads use — invoke and
 * completion recorded, each published as an `op` event. Two recorded variants: as a scenario workload calls
 * it (a per-call timeout, and a subscriber on the op events, as `faultline run --journal` has), and the
 * Recorder alone (no timeout, nobody listening). A second baseline gives each bare call what the Recorder
 * gives it besides recording: its own AbortSignal and a timeout timer (Node 20 takes microseconds to make an
 * AbortSignal). Rounds interleave the variants; medians are reported.
 */
import { realClock } from '../../src/core/clock.js';
import { subscribe } from '../../src/core/events.js';
import { Recorder } from '../../src/history/index.js';
import { median } from '../proxy/stats.js';

export interface RecordingFigures {
  readonly ops: number;
  readonly rounds: number;
  /** Median µs per op over the rounds. */
  readonly bareUs: number;
  /** The bare loop giving each call its own AbortSignal and timeout timer, as a client that times out does. */
  readonly timedUs: number;
  readonly recordedUs: number;
  readonly recorderOnlyUs: number;
}

const clients = 8;

/** The client: answers at once, as a cached read would. */
const client = (value: number) => (_signal: AbortSignal) => value;

async function bare(ops: number): Promise<number> {
  const signal = new AbortController().signal;
  const start = performance.now();
  let sum = 0;
  for (let i = 0; i < ops; i++) sum += await client(i)(signal);
  const elapsed = performance.now() - start;
  if (sum < 0) throw new Error('unreachable');
  return elapsed;
}

async function timed(ops: number): Promise<number> {
  const start = performance.now();
  let sum = 0;
  for (let i = 0; i < ops; i++) {
    const controller = new AbortController();
    const timer = realClock.setTimeout(() => controller.abort(), 1000);
    sum += await client(i)(controller.signal);
    realClock.clearTimeout(timer);
  }
  const elapsed = performance.now() - start;
  if (sum < 0) throw new Error('unreachable');
  return elapsed;
}

async function recorded(ops: number, asWorkloads: boolean): Promise<number> {
  const recorder = new Recorder({ clock: realClock });
  let seen = 0;
  const unsubscribe = asWorkloads ? subscribe(() => seen++, ['op']) : () => {};
  const options = asWorkloads ? { timeoutMs: 1000 } : {};
  try {
    const start = performance.now();
    for (let i = 0; i < ops; i++) await recorder.attempt(i % clients, 'write', i, client(i), options);
    const elapsed = performance.now() - start;
    if (recorder.history().length !== 2 * ops || (asWorkloads && seen !== 2 * ops))
      throw new Error('the recorder lost ops');
    return elapsed;
  } finally {
    unsubscribe();
  }
}

export async function benchRecording(ops: number, rounds: number): Promise<RecordingFigures> {
  // One warm-up round, so the JIT has settled before anything counts.
  await bare(ops);
  await timed(ops);
  await recorded(ops, true);
  await recorded(ops, false);
  const times = {
    bare: [] as number[],
    timed: [] as number[],
    recorded: [] as number[],
    recorderOnly: [] as number[],
  };
  for (let round = 0; round < rounds; round++) {
    times.bare.push(await bare(ops));
    times.timed.push(await timed(ops));
    times.recorded.push(await recorded(ops, true));
    times.recorderOnly.push(await recorded(ops, false));
  }
  const us = (values: number[]): number => (median(values) * 1000) / ops;
  return {
    ops,
    rounds,
    bareUs: us(times.bare),
    timedUs: us(times.timed),
    recordedUs: us(times.recorded),
    recorderOnlyUs: us(times.recorderOnly),
  };
}
