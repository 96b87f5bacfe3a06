import { performance } from 'node:perf_hooks';
import { codes } from './codes.js';
import { FaultlineError } from './errors.js';

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

export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  wallNow(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return setTimeout(callback, Math.max(0, delayMs));
  }

  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as NodeJS.Timeout);
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, delayMs),
      );
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortError(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function abortError(signal: AbortSignal): FaultlineError {
  return new FaultlineError(codes.aborted, 'aborted', { cause: signal.reason });
}

/** The process-wide real clock; pass a different Clock explicitly to simulate. */
export const realClock: Clock = new RealClock();
