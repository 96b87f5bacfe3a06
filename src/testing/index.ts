import { AssertionError } from 'node:assert';
import { invalid } from '../core/assert.js';
import { type Clock, realClock } from '../core/clock.js';
import type { FaultContext } from '../core/fault.js';
import { Ledger } from '../core/ledger.js';
import { Random } from '../core/random.js';
import {
  describeCheck,
  loadScenario,
  type RunResult,
  runScenario,
  type Scenario,
  type ScenarioInput,
  validateScenario,
} from '../scenario/index.js';

/** The parts of a `node:test` TestContext this uses. */
export interface NodeTestLike {
  readonly name: string;
  after(fn: () => unknown): void;
  diagnostic(message: string): void;
}

/** The parts of a Vitest TestContext this uses (`test('…', (ctx) => …)`). */
export interface VitestTestLike {
  readonly task: { readonly name: string; readonly file?: { readonly filepath?: string } };
  onTestFinished(fn: () => unknown): void;
  onTestFailed(fn: () => unknown): void;
}

export interface FaultlineTestOptions {
  /** Default: `FAULTLINE_SEED` when set, else a fresh one (printed, with the command that replays it). */
  readonly seed?: number;
  /** Default `realClock`; give a VirtualClock to test schedules. */
  readonly clock?: Clock;
}

/** A Ledger, clock and seeded Random bound to one test. */
export interface FaultlineTest {
  readonly ledger: Ledger;
  /** What `fault.inject(context)` takes. */
  readonly context: FaultContext;
  readonly clock: Clock;
  readonly random: Random;
  readonly seed: number;
  /** The command that runs this test again with the same seed. */
  readonly replay: string;
  /**
   * Stops `resource` (a Supervisor, ProxyHub, Network …) when the test ends, after the faults
   * recorded since are healed, newest first. Returns it.
   */
  own<T extends AsyncDisposable>(resource: T, label?: string): T;
}

/**
 * Binds a Ledger to a `node:test` or Vitest test: whatever way the test ends — pass, fail, throw, time
 * out — every fault it injected is healed and every resource it `own`ed is stopped, newest first. It
 * installs no signal handlers (the test runner owns the process). The seed is printed, with the command
 * that replays it: as a diagnostic of the test on node:test, and on failure on Vitest.
 */
export function useFaultline(
  t: NodeTestLike | VitestTestLike,
  options: FaultlineTestOptions = {},
): FaultlineTest {
  const random = Random.from(options, '');
  const seed = random.seed;
  const clock = options.clock ?? realClock;
  const ledger = new Ledger({ clock });
  const replay = replayCommand(t, seed);
  const line = `faultline seed ${seed}; replay: ${replay}`;
  if ('after' in t) {
    t.diagnostic(line);
    t.after(() => ledger.close());
  } else {
    t.onTestFailed(() => process.stderr.write(`${line}\n`));
    t.onTestFinished(() => ledger.close());
  }
  return {
    ledger,
    context: { ledger, clock, random },
    clock,
    random,
    seed,
    replay,
    own(resource, label = 'stop resource') {
      if (typeof resource?.[Symbol.asyncDispose] !== 'function') {
        throw invalid(
          'resource',
          'expected something to stop: an object with [Symbol.asyncDispose]',
          'a Supervisor, ProxyHub, TcpProxy, UdpProxy or Network',
        );
      }
      ledger.push(label, async () => {
        await resource[Symbol.asyncDispose]();
      });
      return resource;
    },
  };
}

function replayCommand(t: NodeTestLike | VitestTestLike, seed: number): string {
  const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;
  if ('after' in t) {
    // node --test runs each file in its own process, with the file as argv[1].
    const file = process.argv[1] ?? '<test file>';
    return `FAULTLINE_SEED=${seed} node --test --test-name-pattern=${quote(t.name)} ${quote(file)}`;
  }
  const file = t.task.file?.filepath ?? '<test file>';
  return `FAULTLINE_SEED=${seed} npx vitest run ${quote(file)} -t ${quote(t.task.name)}`;
}

/** What `runScenarioIn` runs: a scenario file (.toml, .yaml/.yml, .json) or the same model as an object. */
export type ScenarioSource = string | ScenarioInput;

/** A scenario loaded (and validated) once, and where it came from. */
async function loadSource(source: ScenarioSource): Promise<{ scenario: Scenario; file: string }> {
  if (typeof source === 'string') return { scenario: await loadScenario(source), file: source };
  const file = '<inline scenario>';
  const document = { file, text: '', format: 'json' as const, value: source, positions: new Map() };
  return { scenario: validateScenario(document), file };
}

export interface ScenarioRunOptions {
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/**
 * Runs a scenario inside a node:test or Vitest test — from a file, or inline as an object of the same
 * model — with the test's seed (`FAULTLINE_SEED` replays it). Returns the run's result when it passes;
 * otherwise fails the test with the verdict's explanation and the command that replays it. Heals and
 * cleanup run before it returns, whatever happens.
 */
export async function runScenarioIn(
  t: NodeTestLike | VitestTestLike,
  source: ScenarioSource,
  options: ScenarioRunOptions = {},
): Promise<RunResult> {
  const { scenario, file } = await loadSource(source);
  return runLoaded(t, scenario, file, options);
}

async function runLoaded(
  t: NodeTestLike | VitestTestLike,
  scenario: Scenario,
  file: string,
  options: ScenarioRunOptions,
): Promise<RunResult> {
  const result = await runScenario(scenario, {
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (result.verdict === 'pass') return result;
  const lines = [
    `scenario "${scenario.experiment.name}" (${file}): ${result.verdict.toUpperCase()} — ${result.reason}`,
    ...result.checks.filter((check) => check.valid !== true).map((check) => `  ${describeCheck(check)}`),
    `  seed ${result.seed}; replay: ${replayCommand(t, result.seed)}`,
  ];
  throw new AssertionError({
    message: lines.join('\n'),
    actual: result.verdict,
    expected: 'pass',
    operator: 'runScenarioIn',
  });
}

/**
 * A scenario as a test, selectable by its `experiment.tags` (`chaos`, `chaos:network` …) under either
 * runner. Vitest takes the tags as its own (`test(name, options, fn)` with `--tags-filter`); node:test
 * selects by name, so the name carries them as `@tag` words (Playwright's convention):
 * `slow cache @chaos @chaos:network`, and `--test-name-pattern '@chaos:network'` runs it.
 */
export interface ScenarioTest {
  /** The experiment's name, then each tag as ` @tag`. */
  readonly name: string;
  /** The experiment's tags, in order. */
  readonly tags: readonly string[];
  /**
   * Test options both runners take: `timeout`, the scenario's time limit and a minute more (so the run's
   * own limit, which heals and reports, ends it first), and Vitest's `tags` (node:test ignores them).
   */
  readonly options: { readonly timeout: number; readonly tags: string[] };
  /** The test function: runs the scenario in the test it is given (as `runScenarioIn`). */
  readonly run: (t: NodeTestLike | VitestTestLike) => Promise<void>;
}

/**
 * Loads and validates a scenario (a file or an inline object) now, so a test file can name its tests by
 * it — top-level `await` in an ES module test file:
 *
 *   const slowCache = await scenarioTest('chaos/slow-cache.toml');
 *   test(slowCache.name, slowCache.options, slowCache.run);    // node:test and Vitest alike
 *
 * A file that does not validate throws here, before any test is defined.
 */
export async function scenarioTest(
  source: ScenarioSource,
  options: ScenarioRunOptions = {},
): Promise<ScenarioTest> {
  const { scenario, file } = await loadSource(source);
  const tags = [...(scenario.experiment.tags ?? [])];
  return {
    name: [scenario.experiment.name, ...tags.map((tag) => `@${tag}`)].join(' '),
    tags,
    options: { timeout: scenario.experiment.timeLimit + 60_000, tags: [...tags] },
    run: async (t) => {
      await runLoaded(t, scenario, file, options);
    },
  };
}
