/**
 * The fuzzers' environment, read one way. Each fuzzer has its own number of runs —
 * `FAULTLINE_FUZZ_API_RUNS` (test/api/fuzz), `FAULTLINE_FUZZ_CONFIG_RUNS` (test/cli/config-fuzz),
 * `FAULTLINE_FUZZ_CHECK_RUNS` (test/cli/check-fuzz) — and `FAULTLINE_FUZZ_SEED` is common to all.
 * A value that is not a whole number in range is an error naming the variable, never a silent NaN.
 */

/** The integer in environment variable `name` (at least `min`), or `fallback` when unset or empty. */
export function envInteger(name: string, fallback: number, min = 0): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** `FAULTLINE_FUZZ_SEED`, the seed of every fuzzer (each prints the one it used). */
export function fuzzSeed(fallback: number): number {
  return envInteger('FAULTLINE_FUZZ_SEED', fallback);
}

/** The runs of one fuzzer: `FAULTLINE_FUZZ_<name>_RUNS`. */
export function fuzzRuns(name: 'API' | 'CONFIG' | 'CHECK', fallback: number): number {
  if (process.env.FAULTLINE_FUZZ_RUNS !== undefined) {
    // It used to mean something different to each fuzzer; refuse it rather than ignore it.
    throw new Error(
      'FAULTLINE_FUZZ_RUNS is no longer read: set FAULTLINE_FUZZ_API_RUNS, FAULTLINE_FUZZ_CONFIG_RUNS or FAULTLINE_FUZZ_CHECK_RUNS',
    );
  }
  return envInteger(`FAULTLINE_FUZZ_${name}_RUNS`, fallback, 1);
}
