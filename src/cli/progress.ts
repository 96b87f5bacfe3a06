import type { Clock, TimerHandle } from '../core/clock.js';
import { type FaultlineEvent, subscribe } from '../core/events.js';

/**
 * Live progress of `faultline run` on a terminal: a status block of a few lines redrawn in place (at most
 * 10 times a second) while log lines scroll above it. Everything shown comes from the run's events, so
 * the block knows nothing of the runner's internals. `applyEvent` folds an event into the state;
 * `renderProgress` is a pure function of the state, the time and the width.
 */

/** Rate samples kept for ops/s: one per redraw, so 32 cover 3 s at 10 redraws a second. */
const maxRateSamples = 32;
const rateWindowMs = 2000;
/** Faults and probes listed in full before "+N more": the block stays a few lines. */
const maxListed = 6;

export interface ProgressState {
  /** The run's start on its clock. */
  startedAtMs: number;
  phase: string;
  /** Faults in force, by Ledger id. */
  readonly faults: Map<number, { readonly kind: string; readonly label: string }>;
  /** Completed calls by outcome; `info` ops without an invocation (a nemesis note) count too. */
  readonly ops: { ok: number; fail: number; info: number };
  readonly probes: Map<string, { readonly ok: boolean; readonly error?: string }>;
  /** (time, completed ops) pairs, oldest first, at most `maxRateSamples`. */
  readonly rate: { atMs: number; completed: number }[];
}

export function progressState(startedAtMs: number): ProgressState {
  return {
    startedAtMs,
    phase: 'setup',
    faults: new Map(),
    ops: { ok: 0, fail: 0, info: 0 },
    probes: new Map(),
    rate: [],
  };
}

export function applyEvent(state: ProgressState, event: FaultlineEvent): void {
  switch (event.type) {
    case 'op': {
      const type = (event.op as { type?: unknown }).type;
      if (type === 'ok' || type === 'fail' || type === 'info') state.ops[type]++;
      return;
    }
    case 'fault.inject':
      state.faults.set(event.id, { kind: event.kind, label: event.label });
      return;
    case 'fault.heal':
      state.faults.delete(event.id);
      return;
    case 'probe':
      state.probes.set(
        event.name,
        event.error === undefined ? { ok: event.ok } : { ok: event.ok, error: event.error },
      );
      return;
    case 'phase':
      if (event.state === 'start') state.phase = event.name;
      return;
    case 'run':
      if (event.state === 'start') state.startedAtMs = event.atMs;
      return;
    default:
      return;
  }
}

/** Records how many ops had completed at `nowMs`, for the ops/s figure. */
export function sampleRate(state: ProgressState, nowMs: number): void {
  state.rate.push({ atMs: nowMs, completed: completed(state) });
  if (state.rate.length > maxRateSamples) state.rate.shift();
}

const completed = (state: ProgressState): number => state.ops.ok + state.ops.fail + state.ops.info;

/** The status block: one string per line, none longer than `columns - 1` (a full line would wrap). */
export function renderProgress(state: ProgressState, nowMs: number, columns: number): string[] {
  const elapsed = ((nowMs - state.startedAtMs) / 1000).toFixed(1);
  const done = completed(state);
  const since = state.rate.find((sample) => nowMs - sample.atMs <= rateWindowMs);
  const spanMs = since === undefined ? 0 : nowMs - since.atMs;
  const perSec = since === undefined || spanMs <= 0 ? 0 : ((done - since.completed) * 1000) / spanMs;
  const errors = state.ops.fail + state.ops.info;
  const faults = listed(
    [...state.faults.values()].map((fault) => `${fault.kind} (${fault.label})`),
    'none in force',
  );
  const probes = listed(
    [...state.probes].map(([name, probe]) =>
      probe.ok ? `${name} green` : `${name} red${probe.error === undefined ? '' : ` (${probe.error})`}`,
    ),
    'none yet',
  );
  const lines = [
    `── ${state.phase} · ${elapsed} s`,
    `   faults: ${faults}`,
    `   ops: ${done} done · ${Math.round(perSec)}/s · errors ${errors} (fail ${state.ops.fail}, info ${state.ops.info})`,
    `   probes: ${probes}`,
  ];
  return lines.map((line) => truncate(line, columns - 1));
}

function listed(items: readonly string[], none: string): string {
  if (items.length === 0) return none;
  const shown = items.slice(0, maxListed).join(' · ');
  return items.length > maxListed ? `${shown} · +${items.length - maxListed} more` : shown;
}

function truncate(line: string, width: number): string {
  const flat = line.replace(/[\r\n\t]+/g, ' ');
  if (width < 2) return '';
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** Moves the cursor to the start of the line `lines` up and erases from there to the end of the screen. */
export const eraseUp = (lines: number): string => (lines === 0 ? '\r\x1b[J' : `\x1b[${lines}F\x1b[J`);

export interface Terminal {
  write(text: string): unknown;
  readonly columns?: number;
}

/**
 * The status block on `terminal`, redrawn every `intervalMs` (default 100: 10 redraws a second at most,
 * however many events arrive) from the events published while it runs.
 */
export class LiveProgress {
  private readonly state: ProgressState;
  private drawn = 0;
  private timer: TimerHandle | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly terminal: Terminal,
    private readonly clock: Clock,
    private readonly intervalMs = 100,
  ) {
    this.state = progressState(clock.now());
    this.unsubscribe = subscribe((event) => applyEvent(this.state, event));
    this.tick();
  }

  /** A line that scrolls above the block. */
  log(line: string): void {
    this.terminal.write(`${eraseUp(this.drawn)}${line}\n`);
    this.drawn = 0;
    this.draw();
  }

  /** Stops listening and redrawing; erases the block, so what follows prints where it was. */
  stop(): void {
    this.unsubscribe();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.terminal.write(eraseUp(this.drawn));
    this.drawn = 0;
  }

  private tick(): void {
    sampleRate(this.state, this.clock.now());
    this.draw();
    this.timer = this.clock.setTimeout(() => this.tick(), this.intervalMs);
  }

  private draw(): void {
    const lines = renderProgress(this.state, this.clock.now(), this.terminal.columns || 80);
    this.terminal.write(`${eraseUp(this.drawn)}${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
