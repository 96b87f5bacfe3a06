import { invalid, requireNumber } from './assert.js';
import { type Clock, sleepOn, type TimerHandle } from './clock.js';
import { type DueEntry, DueHeap } from './due-heap.js';

/** A pending timer of a VirtualClock; the handle `setTimeout` returns. */
class VirtualTimer implements DueEntry {
  cancelled = false;

  constructor(
    readonly due: number,
    /** Creation order: timers due at the same time run in the order they were set. */
    readonly seq: number,
    readonly callback: () => void,
  ) {}
}

/** Run by `runUntilIdle` unless told otherwise: a timer that keeps re-arming itself must not hang a test. */
const defaultMaxTimers = 100_000;

/**
 * A clock whose time moves only when told to: `advance(ms)` runs every timer that falls due on the way, in
 * due order (timers due together run in the order they were set, and a timer set by a callback runs too if
 * it falls due within the window); `runUntilIdle()` runs timers until none is left. Schedules built on a
 * `Clock` (toxics, release queues, waits) can then be tested exactly and instantly.
 *
 * Callbacks run synchronously inside `advance`; promises they settle resume after it returns, so `await
 * clock.advanceAsync(ms)` lets such continuations run between due times.
 */
export class VirtualClock implements Clock {
  private nowMs: number;
  private readonly wallStartMs: number;
  /** Cancelled timers are skipped when they reach the top. */
  private readonly heap = new DueHeap<VirtualTimer>();
  private sequence = 0;
  private live = 0;

  constructor(options: { startMs?: number; wallStartMs?: number } = {}) {
    this.nowMs = options.startMs ?? 0;
    this.wallStartMs = options.wallStartMs ?? Date.UTC(2026, 0, 1);
  }

  now(): number {
    return this.nowMs;
  }

  wallNow(): number {
    return this.wallStartMs + this.nowMs;
  }

  /** Timers set and not yet run or cleared. */
  get pendingTimers(): number {
    return this.live;
  }

  /** When the next timer falls due, or undefined when none is pending. */
  nextDueAt(): number | undefined {
    this.dropCancelled();
    return this.heap.peek()?.due;
  }

  /** As RealClock: a negative or NaN delay counts as 0, and +Infinity never falls due. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer = new VirtualTimer(this.nowMs + Math.max(0, delayMs || 0), this.sequence++, callback);
    if (timer.due === Number.POSITIVE_INFINITY) return timer;
    this.heap.push(timer);
    this.live++;
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (!(handle instanceof VirtualTimer) || handle.cancelled) return;
    handle.cancelled = true;
    if (handle.due !== Number.POSITIVE_INFINITY) this.live--;
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }

  /** Moves time forward by `ms`, running the timers due on the way; returns how many ran. */
  advance(ms: number): number {
    return this.runDueBy(this.nowMs + requireNumber(ms, 'ms', { min: 0 }), Number.POSITIVE_INFINITY);
  }

  /** As `advance`, but lets promise continuations run after each due time's timers. */
  async advanceAsync(ms: number): Promise<number> {
    const target = this.nowMs + requireNumber(ms, 'ms', { min: 0 });
    let ran = 0;
    for (let next = this.nextDueAt(); next !== undefined && next <= target; next = this.nextDueAt()) {
      ran += this.runDueBy(next, Number.POSITIVE_INFINITY);
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    }
    this.nowMs = target;
    return ran;
  }

  /**
   * Runs timers in due order, moving time to each, until none is pending; returns how many ran. Stops with
   * an error after `maxTimers` (a timer that re-arms itself for ever).
   */
  runUntilIdle(options: { maxTimers?: number } = {}): number {
    const maxTimers = options.maxTimers ?? defaultMaxTimers;
    const ran = this.runDueBy(Number.POSITIVE_INFINITY, maxTimers);
    if (this.live > 0) {
      throw invalid(
        'maxTimers',
        `${ran} timers ran and ${this.live} are still pending`,
        `more than ${maxTimers}`,
      );
    }
    return ran;
  }

  private runDueBy(target: number, maxTimers: number): number {
    let ran = 0;
    for (;;) {
      this.dropCancelled();
      const next = this.heap.peek();
      if (next === undefined || next.due > target || ran >= maxTimers) break;
      this.heap.pop();
      next.cancelled = true; // run once: a clearTimeout from inside the callback is then a no-op
      this.live--;
      this.nowMs = Math.max(this.nowMs, next.due);
      ran++;
      next.callback();
    }
    if (target !== Number.POSITIVE_INFINITY) this.nowMs = Math.max(this.nowMs, target);
    return ran;
  }

  private dropCancelled(): void {
    while (this.heap.peek()?.cancelled) this.heap.pop();
  }
}
