import type { Op } from '../history/index.js';

/** `unknown`: the checker could not decide (budget exhausted, or the history cannot tell). */
export type Validity = true | false | 'unknown';

/** One thing a checker found wrong (or suspicious), in terms a person can follow. */
export interface Anomaly {
  /** A stable kind, e.g. `lost`, `duplicated`, `unexpected`, `non-linearizable`, `stale-read`. */
  readonly type: string;
  readonly message: string;
  /** The ops that show it, from the history. */
  readonly ops?: readonly Op[];
  readonly [detail: string]: unknown;
}

/** What every checker returns. A failed check is a result, never an exception. */
export interface CheckResult {
  readonly checker: string;
  readonly valid: Validity;
  readonly anomalies: readonly Anomaly[];
  /** The smallest evidence of invalidity, in the checker's own terms. */
  readonly counterexample?: unknown;
  /** Why the verdict is `unknown`, when it is. */
  readonly reason?: string;
  /**
   * Which algorithm decided, in words, when a checker has several (linearizability: the distinct-values
   * algorithm or the search, per partition, and why the search was needed).
   */
  readonly decidedBy?: string;
  /** Counts and figures (ops checked, states explored, elapsed ms, …). */
  readonly stats?: Readonly<Record<string, number>>;
}

export interface Checker {
  readonly name: string;
  check(history: readonly Op[]): CheckResult | Promise<CheckResult>;
}

/** Combines verdicts: any `false` wins, then any `unknown`, else `true`. */
export function combineValidity(validities: readonly Validity[]): Validity {
  if (validities.includes(false)) return false;
  if (validities.includes('unknown')) return 'unknown';
  return true;
}
