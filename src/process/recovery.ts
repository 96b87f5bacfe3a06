import { requireNumber } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import { codes } from '../core/codes.js';
import { formatDuration } from '../core/duration.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { publish } from '../core/events.js';
import type { Probe } from './probes.js';

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between checks (default 100 ms). The measured time is only as fine as this. */
  intervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface WaitResult {
  /** From the call to the end of the first passing check. */
  elapsedMs: number;
  attempts: number;
  /**
   * How uncertain the moment of turning green is: it lies after the start of the last failing check and
   * before the end of the passing one; this is that window (the passing check's length if none failed).
   */
  resolutionMs: number;
  /** Why the last failing check failed, if any did. */
  lastError?: unknown;
}

/** Checks `probe` until it passes; throws FL_ERR_PROBE with the last error when `timeoutMs` runs out. */
export async function waitFor(probe: Probe, options: WaitOptions): Promise<WaitResult> {
  const clock = options.clock ?? realClock;
  const start = clock.now();
  return poll(probe, options, clock, start);
}

async function poll(probe: Probe, options: WaitOptions, clock: Clock, from: number): Promise<WaitResult> {
  const timeoutMs = requireNumber(options.timeoutMs, 'timeoutMs', { min: 0 });
  const intervalMs = requireNumber(options.intervalMs ?? 100, 'intervalMs', { min: 0 });
  const begin = clock.now();
  const deadline = begin + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  let lastFailStart: number | undefined;
  for (;;) {
    if (options.signal?.aborted) {
      throw new FaultlineError(codes.aborted, `waiting for probe "${probe.name}" was aborted`, {
        cause: options.signal.reason,
      });
    }
    const checkStart = clock.now();
    attempts++;
    const outcome = await checkProbe(probe, {
      clock,
      timeoutMs: deadline - checkStart,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (outcome.ok) {
      const end = clock.now();
      const result: WaitResult = {
        elapsedMs: end - from,
        attempts,
        resolutionMs: end - (lastFailStart ?? checkStart),
      };
      if (lastError !== undefined) result.lastError = lastError;
      return result;
    }
    lastError = outcome.error;
    lastFailStart = checkStart;
    const now = clock.now();
    if (now >= deadline) {
      throw new FaultlineError(
        codes.probeFailed,
        `probe "${probe.name}" did not pass within ${formatDuration(timeoutMs)} (${attempts} attempts); last error: ${messageOf(lastError)}`,
        {
          cause: lastError,
          details: { probe: probe.name, attempts, elapsedMs: now - begin, lastError: messageOf(lastError) },
        },
      );
    }
    await clock.sleep(Math.min(intervalMs, deadline - now), options.signal);
  }
}

/** Publishes one check's `probe` event; `start` and `end` are on the wait's clock. */
function published(probe: Probe, start: number, end: number, error?: unknown): void {
  const base = { type: 'probe', name: probe.name, durationMs: end - start, atMs: end } as const;
  publish(error === undefined ? { ...base, ok: true } : { ...base, ok: false, error: messageOf(error) });
}

/**
 * One check of `probe`, cut off after `timeoutMs` so a hanging probe cannot outlast its caller, and
 * published as a `probe` event. A failed check is an outcome, not a throw.
 */
export async function checkProbe(
  probe: Probe,
  options: { readonly clock?: Clock; readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<{ ok: true } | { ok: false; error: unknown }> {
  const clock = options.clock ?? realClock;
  const start = clock.now();
  try {
    await checkWithin(probe, clock, options.timeoutMs, options.signal);
    published(probe, start, clock.now());
    return { ok: true };
  } catch (error) {
    published(probe, start, clock.now(), error);
    return { ok: false, error };
  }
}

/** One check, cut off after `timeoutMs` (at least 1 ms). */
async function checkWithin(
  probe: Probe,
  clock: Clock,
  timeoutMs: number,
  outer?: AbortSignal,
): Promise<void> {
  const controller = new AbortController();
  const remaining = Math.max(1, timeoutMs);
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const onAbort = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([
      probe.check(controller.signal),
      new Promise<never>((_, reject) => {
        timer = clock.setTimeout(() => {
          const error = new Error(`check still running at the deadline (${formatDuration(remaining)})`);
          controller.abort(error);
          reject(error);
        }, remaining);
      }),
    ]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

export interface TimeToGreenOptions extends WaitOptions {
  /** Clock time the outage began (e.g. when the fault was injected); default: now. */
  from?: number;
}

export interface TimeToGreenResult {
  /** From `from` to the end of the first passing check. */
  ms: number;
  resolutionMs: number;
  attempts: number;
  lastError?: unknown;
}

/** Measures how long `probe` takes to pass, counted from `from`. */
export async function timeToGreen(probe: Probe, options: TimeToGreenOptions): Promise<TimeToGreenResult> {
  const clock = options.clock ?? realClock;
  const from = options.from ?? clock.now();
  const waited = await poll(probe, options, clock, from);
  const result: TimeToGreenResult = {
    ms: waited.elapsedMs,
    resolutionMs: waited.resolutionMs,
    attempts: waited.attempts,
  };
  if (waited.lastError !== undefined) result.lastError = waited.lastError;
  return result;
}

/**
 * Asserts a recovery met its SLO. Throws FL_ERR_SLO with the measured time, its resolution, the SLO and
 * the probe's last error — also when the recovery never happened (the wait itself failed).
 */
export async function assertRecoveryWithin(
  measured: TimeToGreenResult | WaitResult | Promise<TimeToGreenResult | WaitResult>,
  sloMs: number,
): Promise<TimeToGreenResult | WaitResult> {
  requireNumber(sloMs, 'sloMs', { min: 0 });
  let result: TimeToGreenResult | WaitResult;
  try {
    result = await measured;
  } catch (error) {
    throw new FaultlineError(
      codes.sloViolated,
      `recovery SLO ${formatDuration(sloMs)} violated: never recovered: ${messageOf(error)}`,
      { cause: error, details: { sloMs, recovered: false } },
    );
  }
  const ms = 'ms' in result ? result.ms : result.elapsedMs;
  if (ms > sloMs) {
    const last = result.lastError === undefined ? '' : `; probe's last error: ${messageOf(result.lastError)}`;
    throw new FaultlineError(
      codes.sloViolated,
      `recovery took ${formatDuration(ms)} (±${formatDuration(result.resolutionMs)}), SLO ${formatDuration(sloMs)}${last}`,
      {
        cause: result.lastError,
        details: { measuredMs: ms, resolutionMs: result.resolutionMs, sloMs, recovered: true },
      },
    );
  }
  return result;
}
