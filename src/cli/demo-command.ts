import { formatDuration } from '../core/duration.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { subscribe } from '../core/events.js';
import { Random } from '../core/random.js';
import { demoScenarioPath, kvServicePath } from '../demo/index.js';
import { explainCheck, loadScenario, type RunResult, runScenario } from '../scenario/index.js';
import { parseCommandLine, usageSeed } from './usage.js';

/** Exit codes of `faultline demo`. */
export const demoExit = { valid: 0, invalid: 1, error: 2, interrupted: 130 } as const;

export const demoUsage = `Usage: faultline demo [--fixed] [--seed N]

faultline's main job on a built-in example. It runs the bundled scenario scenarios/demo.toml (its path is
printed; \`faultline run\` runs it too) through the same runner as \`faultline run\`: a small HTTP
key-value store (shipped in the package) runs under supervision with its data in the run's temp dir;
4 clients write, read and compare-and-set keys, every call recorded; the store is SIGKILLed mid-run and
restarted by its restart policy; the clients go on, then scan the keys. The history is checked for lost
acknowledged writes and for linearizability, and the verdict printed with its explanation. Takes about
5 s; leaves nothing running and no temp files.

The store's default variant has a classic bug: it acknowledges a write before the write is on disk
(it flushes every second), so the kill loses the writes acknowledged since the last flush — the demo
finds and names them. --fixed runs the variant that fsyncs before it answers: the same scenario passes.

Exit code: 0 every check passed, 1 a check failed (the bug was found), 2 an error or an undecided check,
130 interrupted (Ctrl-C: the store is stopped and its data removed first).

Options:
  --fixed      run the fixed variant of the store (fsync before acknowledging)
  --seed <n>   seed of the workload's choices; default FAULTLINE_SEED, else a fresh one; printed first,
               with the command that replays the run
  -h, --help   show this help

See docs/demo.md.
`;

/** `faultline demo`: prints the seed, the scenario, progress and the verdict; returns the exit code. */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    {
      args: argv,
      options: {
        fixed: { type: 'boolean', default: false },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    },
    demoUsage,
  );
  if (values.help) {
    process.stdout.write(demoUsage);
    return demoExit.valid;
  }
  const seed = usageSeed(values.seed, demoUsage) ?? Random.freshSeed();
  const variant = values.fixed ? 'fixed' : 'buggy';
  const replay = `faultline demo${values.fixed ? ' --fixed' : ''} --seed ${seed}`;
  let muted = false;
  const say = (line: string): void => {
    if (!muted) process.stdout.write(`faultline demo: ${line}\n`);
  };
  say(`seed ${seed} (replay with ${replay})`);
  const interrupt = new AbortController();
  const onSignal = (): void => {
    if (interrupt.signal.aborted) process.exit(demoExit.interrupted);
    say('interrupted: stopping the service and removing its data');
    muted = true; // what follows is the cleanup's own noise
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // The scenario reads these (see its header); a user running it with `faultline run` sets them.
    const env = {
      FAULTLINE_DEMO_SERVICE: kvServicePath,
      FAULTLINE_DEMO_VARIANT: variant,
    };
    Object.assign(process.env, env);
    const scenario = await loadScenario(demoScenarioPath);
    const assignments = Object.entries(env)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ');
    say(`scenario ${demoScenarioPath}, the ${variant} store`);
    say(`  run it yourself: ${assignments} faultline run --seed ${seed} ${demoScenarioPath}`);
    const started = Date.now();
    const stamp = (line: string): void => say(`[${formatDuration(Date.now() - started)}] ${line}`);
    const stopWatching = watchRestart(stamp);
    let result: RunResult;
    try {
      result = await runScenario(scenario, { seed, signal: interrupt.signal, log: stamp });
    } finally {
      stopWatching();
    }
    if (result.verdict === 'interrupted') return demoExit.interrupted;
    if (result.verdict === 'error') {
      process.stderr.write(`faultline demo: error: ${result.reason}\n`);
      return demoExit.error;
    }
    printVerdict(result, variant, scenario.checks ?? [], say);
    if (result.verdict !== 'pass') say(`replay with ${replay}`);
    return result.verdict === 'pass'
      ? demoExit.valid
      : result.verdict === 'fail'
        ? demoExit.invalid
        : demoExit.error;
  } catch (error) {
    const code = error instanceof FaultlineError ? `${error.code}: ` : '';
    process.stderr.write(`faultline demo: error: ${code}${messageOf(error)}\n`);
    return demoExit.error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function printVerdict(
  result: RunResult,
  variant: string,
  specs: readonly Readonly<Record<string, unknown>>[],
  say: (line: string) => void,
): void {
  const figures = `${result.ops} ops, ${(result.elapsedMs / 1000).toFixed(1)} s`;
  say(
    result.verdict === 'pass'
      ? `verdict: PASS — no acknowledged write was lost and the history is linearizable (${figures})`
      : result.verdict === 'fail'
        ? `verdict: FAIL — the ${variant} store broke its promise (${figures})`
        : `verdict: UNDECIDED — ${result.reason} (${figures})`,
  );
  const red = [...result.steadyStateBefore, ...result.steadyStateAfter].filter((probe) => !probe.ok);
  for (const probe of red) process.stdout.write(`  steady state: ${probe.name} failed: ${probe.error}\n`);
  for (const [index, check] of result.checks.entries()) {
    const model = specs[index]?.model;
    for (const line of explainCheck(check, typeof model === 'string' ? { model } : {})) {
      process.stdout.write(`  ${line}\n`);
    }
  }
  if (result.verdict === 'fail' && variant === 'buggy') {
    process.stdout.write(
      '  why: this store answers "ok" as soon as a write is in memory and flushes to disk once a second,\n' +
        '  so a crash loses what was acknowledged since the last flush. `faultline demo --fixed` runs the\n' +
        '  variant that fsyncs before answering: the same scenario passes.\n',
    );
  }
}

/**
 * Tells when the store answers again after the kill: the first call acknowledged after calls began to fail
 * (watching the run's events: the fault's injection and the recorded ops). That is the restart policy at
 * work, which the runner's own lines do not show.
 */
function watchRestart(say: (line: string) => void): () => void {
  let killedAt: number | undefined;
  let down = false;
  return subscribe(
    (event) => {
      if (event.type === 'fault.inject' && event.kind === 'process.kill') {
        killedAt = Date.now();
        down = false;
      } else if (event.type === 'op' && killedAt !== undefined) {
        const { type } = event.op as { readonly type: string };
        if (type === 'fail' || type === 'info') down = true;
        else if (type === 'ok' && down) {
          say(
            `kv answers again (restarted by its restart policy), down for ${formatDuration(Date.now() - killedAt)}`,
          );
          killedAt = undefined;
        }
      }
    },
    ['fault.inject', 'op'],
  );
}
