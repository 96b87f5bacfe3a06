import type { PartitionOutcome, PartitionSearch } from '../checker/index.js';
import type { Clock } from '../core/clock.js';

/** Longest time a search holds the event loop before yielding (so aborts and workers get a turn). */
const yieldEveryMs = 25;

/** Where the driver's time and abort come from, for one partition's search. */
export interface PumpLimits {
  readonly clock: Clock;
  /** `clock.now()` value at which to give up with `timeout`. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  /** Yield to the event loop every ~25 ms (default true; a worker thread has nothing to yield to). */
  readonly yields?: boolean;
}

/**
 * Pumps a pure partition search to its outcome under a real-time budget: the only place the
 * linearizability check meets a clock and the event loop. `stillNeeded` lets the run drop a partition
 * that another one's failure made moot (the outcome is then `aborted`, and is not used).
 */
export async function pumpPartition<S>(
  search: PartitionSearch<S>,
  limits: PumpLimits,
  stillNeeded: () => boolean = () => true,
): Promise<PartitionOutcome> {
  const { clock, deadline, signal } = limits;
  const yields = limits.yields ?? true;
  const aborted = (): boolean => signal?.aborted === true;
  for (;;) {
    const sliceStart = clock.now();
    const outcome = search.runUntil(() => {
      const now = clock.now();
      return now >= deadline || aborted() || (yields && now - sliceStart >= yieldEveryMs);
    });
    if (outcome !== undefined) return outcome;
    if (clock.now() >= deadline) return search.cut('timeout');
    if (aborted() || !stillNeeded()) return search.cut('aborted');
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (aborted()) return search.cut('aborted');
  }
}
