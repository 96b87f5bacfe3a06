import { FaultlineError, messageOf } from '../core/errors.js';
import { Random } from '../core/random.js';
import { runDemo } from '../demo/index.js';
import { parseCommandLine, usageSeed } from './usage.js';

/** Exit codes of `faultline demo`. */
export const demoExit = { valid: 0, invalid: 1, error: 2 } as const;

export const demoUsage = `Usage: faultline demo [--fixed] [--seed N]

faultline's main job on a built-in example: a small HTTP key-value store (shipped in the package) runs
under supervision with its data in a temp dir; 4 clients write, read and compare-and-set keys, every call
recorded; the store is SIGKILLed mid-run and restarted by its restart policy; the clients go on, then read
everything back. The history is checked for lost acknowledged writes and for linearizability, and the
verdict printed with its explanation. Takes about 5 s; leaves nothing running and no temp files.

The store's default variant has a classic bug: it acknowledges a write before the write is on disk
(it flushes every second), so the kill loses the writes acknowledged since the last flush — the demo
finds and names them. --fixed runs the variant that fsyncs before it answers: the same scenario passes.

Exit code: 0 every check passed, 1 a check failed (the bug was found), 2 an error or an undecided check.

Options:
  --fixed      run the fixed variant of the store (fsync before acknowledging)
  --seed <n>   seed of the workload and of when the kill lands; default FAULTLINE_SEED, else a fresh one;
               printed first, with the command that replays the run
  -h, --help   show this help

See docs/demo.md.
`;

/** `faultline demo`: prints the seed, progress and the verdict; returns the exit code. */
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
  const say = (line: string): void => {
    process.stdout.write(`faultline demo: ${line}\n`);
  };
  say(`seed ${seed} (replay with ${replay})`);
  try {
    const { verdict, ops, elapsedMs } = await runDemo({ variant, seed, log: say, handleSignals: true });
    const seconds = (elapsedMs / 1000).toFixed(1);
    const headline =
      verdict.valid === true
        ? `PASS — no acknowledged write was lost and the history is linearizable (${ops} ops, ${seconds} s)`
        : verdict.valid === false
          ? `FAIL — the ${variant} store broke its promise (${ops} ops, ${seconds} s)`
          : `UNDECIDED (${ops} ops, ${seconds} s)`;
    say(`verdict: ${headline}`);
    for (const line of verdict.lines) process.stdout.write(`  ${line}\n`);
    if (verdict.valid === false && variant === 'buggy') {
      process.stdout.write(
        '  why: this store answers "ok" as soon as a write is in memory and flushes to disk once a second,\n' +
          '  so a crash loses what was acknowledged since the last flush. `faultline demo --fixed` runs the\n' +
          '  variant that fsyncs before answering: the same scenario passes.\n',
      );
    }
    if (verdict.valid !== true) say(`replay with ${replay}`);
    return verdict.valid === true
      ? demoExit.valid
      : verdict.valid === false
        ? demoExit.invalid
        : demoExit.error;
  } catch (error) {
    const code = error instanceof FaultlineError ? `${error.code}: ` : '';
    process.stderr.write(`faultline demo: error: ${code}${messageOf(error)}\n`);
    return demoExit.error;
  }
}
