// A consumer's view of the package: pack this repository as `npm pack` would, install faultline (from
// that tarball, a git URL, ...) into a fresh project in a temp dir, and run processes there, each in a
// process group of its own and within a time bound. Used by test/docs (the docs' code, run against the
// installed package) and test/package (the installs themselves).

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This repository (the tests run from dist/test/support/). */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The strict settings a consumer's TypeScript may use (this repository's own, plus no skipLibCheck). */
export const consumerCompilerOptions = {
  target: 'es2023',
  lib: ['es2023'],
  module: 'nodenext',
  moduleResolution: 'nodenext',
  types: ['node'],
  typeRoots: [join(repositoryRoot, 'node_modules', '@types')],
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitOverride: true,
  noImplicitReturns: true,
  noFallthroughCasesInSwitch: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: false,
  pretty: false,
};

/** Compiles `files` in `project` with consumerCompilerOptions (this repository's tsc); its output. */
export async function compileInProject(project: string, files: readonly string[]): Promise<Result> {
  writeFileSync(
    join(project, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: consumerCompilerOptions, files }, null, 2)}\n`,
  );
  const tsc = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  return run(process.execPath, [tsc, '-p', '.'], { cwd: project, timeoutMs: 60_000 });
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<Result>;
  stdout(): string;
  stderr(): string;
}

const running = new Set<ChildProcess>();

/** Starts a process in its own process group; `done` settles when it has exited (killed at `timeoutMs`). */
export function start(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Started {
  const began = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killTree(child.pid);
  }, options.timeoutMs);
  const done = new Promise<Result>((resolve) => {
    child.on('error', (error) => {
      stderr += String(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut, ms: Math.round(performance.now() - began) });
    });
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Runs a process to its end (killed after `timeoutMs`, 60 s unless told). */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Result> {
  return start(command, args, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    timeoutMs: options.timeoutMs ?? 60_000,
  }).done;
}

/** This process's environment without what would make a child node report into our test run. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return env;
}

/** Waits until `pattern` shows in the process's stdout; fails if it exits first or time runs out. */
export async function waitForOutput(
  started: Started,
  pattern: RegExp,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void started.done.then(() => {
    exited = true;
  });
  while (!pattern.test(started.stdout())) {
    if (exited || performance.now() > deadline) {
      throw new Error(
        `${what}: ${exited ? 'exited' : 'timed out'} before printing ${pattern}\n${started.stdout()}${started.stderr()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Stops a server process: SIGTERM, then its whole tree with SIGKILL after 5 s. */
export async function stop(started: Started): Promise<Result> {
  if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGTERM');
  const timer = setTimeout(() => killTree(started.child.pid), 5_000);
  const result = await started.done;
  clearTimeout(timer);
  return result;
}

/** Kills every process started here that is still running, with its descendants. */
export function killRunning(): void {
  for (const child of running) killTree(child.pid);
}

/** The pids in /proc (Linux); none elsewhere, where the checks that need it do nothing. */
export const procPids = (): string[] => (existsSync('/proc/self/stat') ? readdirSync('/proc') : []);

/** The process and every descendant, from /proc, children first. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of procPids()) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const visit = (p: number): void => {
    for (const c of children.get(p) ?? []) visit(c);
    out.push(p);
  };
  visit(pid);
  return out;
}

export function killTree(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const p of descendants(pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // no such group
  }
}

/**
 * `npm pack` of this repository into `destination`, as publishing would make it: the package's
 * `prepack` (which puts the prebuilt addon in prebuilds/) runs first; `prepare` is left out, because
 * it rebuilds dist/ under the tests that are running from it (the git install test runs it, in a clone).
 */
export async function packRepository(destination: string): Promise<{ tarball: string; files: string[] }> {
  const prepack = await run('npm', ['run', 'prepack'], { cwd: repositoryRoot, timeoutMs: 120_000 });
  assert.equal(prepack.code, 0, `npm run prepack failed:\n${prepack.stdout}${prepack.stderr}`);
  const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], {
    cwd: repositoryRoot,
  });
  assert.equal(pack.code, 0, `npm pack failed:\n${pack.stderr}`);
  const packed = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  return {
    tarball: join(destination, packed[0]?.filename ?? ''),
    files: packed[0]?.files.map((file) => file.path) ?? [],
  };
}

export interface ScratchProject {
  /** The project's directory. */
  readonly dir: string;
  /** What `npm install` printed (its scripts in the foreground). */
  readonly installLog: string;
  /** The installed package's directory (node_modules/faultline). */
  readonly installed: string;
  /** An environment for running things in the project: its bin first on PATH, its own state and cache dirs. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Deletes the project (unless FAULTLINE_SCRATCH_KEEP=1, which prints where it is). */
  remove(): void;
}

/**
 * A fresh ESM project in a temp dir with `specs` installed (a tarball, a git URL, a directory...), as a
 * user would: `npm install` with its scripts run and shown. Packages already in npm's cache are taken
 * from there (no network when all are).
 */
export async function createScratchProject(
  label: string,
  specs: readonly string[],
  options: { dir?: string; timeoutMs?: number } = {},
): Promise<ScratchProject> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `faultline-${label}-`));
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify({ name: `${label}-scratch`, private: true, type: 'module' }, null, 2)}\n`,
  );
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    cleanEnv({
      PATH: `${join(dir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      FAULTLINE_STATE_DIR: join(dir, 'state'),
      npm_config_cache: join(dir, 'npm-cache'),
      ...extra,
    });
  // The install uses npm's usual cache (where this repository's own install left its packages).
  const install = await run(
    'npm',
    ['install', ...specs, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'],
    { cwd: dir, timeoutMs: options.timeoutMs ?? 120_000 },
  );
  const installLog = `${install.stdout}${install.stderr}`;
  const remove = (): void => {
    if (process.env.FAULTLINE_SCRATCH_KEEP === '1') console.log(`${label}: scratch project kept at ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  if (install.code !== 0) {
    remove(); // a failed install (e.g. timed out on a loaded machine) must not leave its project behind
    assert.fail(`npm install ${specs.join(' ')} failed in ${dir}:\n${installLog}`);
  }
  return { dir, installLog, installed: join(dir, 'node_modules', 'faultline'), env, remove };
}
