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
export type ScenarioSource = string | Readonly<Record<string, unknown>>;

/**
 * Runs a scenario inside a node:test or Vitest test — from a file, or inline as an object of the same
 * model — with the test's seed (`FAULTLINE_SEED` replays it). Returns the run's result when it passes;
 * otherwise fails the test with the verdict's explanation and the command that replays it. Heals and
 * cleanup run before it returns, whatever happens.
 */
export async function runScenarioIn(
  t: NodeTestLike | VitestTestLike,
  source: ScenarioSource,
  options: { readonly seed?: number; readonly signal?: AbortSignal } = {},
): Promise<RunResult> {
  const file = typeof source === 'string' ? source : '<inline scenario>';
  const scenario =
    typeof source === 'string'
      ? await loadScenario(source)
      : validateScenario({ file, text: '', format: 'json', value: source, positions: new Map() });
  const result = await runScenario(scenario, {
    ...(typeof source === 'string' ? { file: source } : {}),
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
