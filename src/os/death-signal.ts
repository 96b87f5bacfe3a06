import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';

/**
 * A child that must not outlive faultline asks the kernel for SIGKILL when its parent dies
 * (PR_SET_PDEATHSIG). Node cannot call prctl between fork and exec, so the child is started through
 * util-linux `setpriv --pdeathsig SIGKILL -- <argv>`, which sets it and execs the target (same pid). The
 * signal fires when the parent *thread* that forked it exits; Node spawns from its main thread.
 */
const setprivPath = '/usr/bin/setpriv';
let support: boolean | undefined;
let noted = false;

/** Whether setpriv with --pdeathsig is here (checked once). */
export function deathSignalSupported(): boolean {
  if (support === undefined) {
    try {
      support = /--pdeathsig/.test(
        execFileSync(setprivPath, ['--help'], { encoding: 'utf8', timeout: 5000 }),
      );
    } catch {
      support = false;
    }
  }
  return support;
}

/**
 * The executable `file` names, as execvp in `cwd` would find it on `path` (argv[0] of a spawn), as an
 * absolute path; undefined when there is none.
 */
export function findExecutable(
  file: string,
  path = process.env.PATH ?? '',
  cwd = process.cwd(),
): string | undefined {
  const candidates = file.includes('/')
    ? [resolve(cwd, file)]
    : path.split(delimiter).map((dir) => resolve(cwd, dir || '.', file));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next directory
    }
  }
  return undefined;
}

/**
 * `argv` wrapped so the process gets SIGKILL when this one dies (argv[0] resolved on `PATH` in `cwd`, as the
 * spawn would); `argv` unchanged when setpriv is missing (noted once as a process warning) or argv[0] cannot
 * be found (so the spawn fails with its own ENOENT/EACCES).
 */
export function withDeathSignal(
  argv: readonly string[],
  options: { readonly path?: string | undefined; readonly cwd?: string | undefined } = {},
): string[] {
  const [file, ...args] = argv;
  const found = file === undefined ? undefined : findExecutable(file, options.path, options.cwd);
  if (found === undefined) return [...argv];
  if (!deathSignalSupported()) {
    if (!noted) {
      noted = true;
      process.emitWarning(
        `${setprivPath} with --pdeathsig is not available (install util-linux >= 2.33): supervised targets may outlive a killed faultline until \`faultline cleanup\` runs`,
        { code: 'FAULTLINE_NO_PDEATHSIG' },
      );
    }
    return [...argv];
  }
  return [setprivPath, '--pdeathsig', 'SIGKILL', '--', found, ...args];
}
