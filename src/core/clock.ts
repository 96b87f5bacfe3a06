import { performance } from 'node:perf_hooks';
// The timers module's own functions, not the globals: a test runner that fakes the global timers
// (Vitest's or Jest's fake timers) must not stop a real clock, or mix faked timers with real time.
import { clearTimeout, setTimeout } from 'node:timers';
import { codes } from './codes.js';
import { FaultlineError } from './errors.js';

/** Taken when this module loads, before a test could fake `performance.now`. */
const monotonicNow = performance.now.bind(performance);

/** An opaque timer handle returned by `Clock.setTimeout`. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/**
 * The only source of time. Times are milliseconds on a monotonic scale with an arbitrary origin
 * (fractions allowed). A virtual clock implements the same interface for simulation.
 */
export interface Clock {
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for reports only. */
  wallNow(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Node runs a timer longer than 2³¹−1 ms after 1 ms instead (with a warning). Longer delays are waited out
 * in steps of at most this much, so a toxic set to act in 30 days acts in 30 days, not at once.
 */
export const maxTimerStepMs = 2 ** 31 - 1;

/** A timer whose delay exceeds one Node timer: re-armed in steps until its due time. */
class SteppedTimer {
  current: NodeJS.Timeout | undefined;

  constructor(
    private readonly dueAt: number,
    private readonly callback: () => void,
  ) {
    this.step();
  }

  private step(): void {
    const leftMs = this.dueAt - monotonicNow();
    if (leftMs === Number.POSITIVE_INFINITY) return; // never due: no Node timer kept alive for it
    this.current =
      leftMs > maxTimerStepMs
        ? setTimeout(() => this.step(), maxTimerStepMs)
        : setTimeout(this.callback, Math.max(0, leftMs));
  }
}

export class RealClock implements Clock {
  now(): number {
    return monotonicNow();
  }

  wallNow(): number {
    return Date.now();
  }

  /** Delays past Node's timer range fire when due; +Infinity never fires; NaN counts as 0, as in Node. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (Number.isNaN(delayMs) || delayMs <= maxTimerStepMs)
      return setTimeout(callback, Math.max(0, delayMs || 0));
    return new SteppedTimer(this.now() + delayMs, callback);
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle instanceof SteppedTimer ? handle.current : (handle as NodeJS.Timeout));
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, delayMs, signal);
  }
}

/** `Clock.sleep` in terms of the clock's own timers, for every Clock. */
export function sleepOn(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): FaultlineError {
  return new FaultlineError(codes.aborted, 'aborted', { cause: signal.reason });
}

/** The process-wide real clock; pass a different Clock explicitly to simulate. */
export const realClock: Clock = new RealClock();
