#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { checkCommand } from './check-command.js';
import { cleanupCommand } from './cleanup-command.js';
import { demoCommand } from './demo-command.js';
import { digestCommand } from './digest-command.js';
import { faultsCommand } from './faults-command.js';
import { reportCommand } from './report-command.js';
import { runCommand } from './run-command.js';
import { serverCommand } from './server-command.js';
import { usageError, usageReminder } from './usage.js';
import { schemaCommand, validateCommand } from './validate-command.js';

const usage = `Usage: faultline <command> [options]

Commands:
  server      run the Toxiproxy-compatible fault proxy server (default 127.0.0.1:8474)
  check       check a history: linearizability against a model, or a safety checker
  demo        find a real bug in a bundled key-value store: SIGKILL mid-run, lost acknowledged writes
              (--fixed: its fixed variant passes the same scenario)
  cleanup     undo what crashed runs left behind (processes, cgroups, limits, files)
  faults      list every kind of fault and its parameters (--json: JSON Schemas)
  run         run scenario files: faults on schedule, workload, probes, checks, a verdict
  digest      print a run journal's canonical digest (the same run, the same digest)
  report      reports from a run's journal: HTML, JUnit XML, a JSON summary
  validate    check scenario files (.toml, .yaml, .json) against the format, running nothing
  schema      print the scenario format as JSON Schema
  help        show this help
  version     print faultline's version

Run 'faultline <command> --help' for a command's options.
`;

const commands: Record<string, (argv: string[]) => Promise<number | undefined>> = {
  server: async (argv) => {
    await serverCommand(argv);
    return 0;
  },
  check: checkCommand,
  cleanup: cleanupCommand,
  demo: demoCommand,
  digest: digestCommand,
  faults: faultsCommand,
  run: runCommand,
  report: reportCommand,
  validate: validateCommand,
  schema: schemaCommand,
  help: async () => {
    process.stdout.write(usage);
    return 0;
  },
  version: async () => {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return commands.version?.([]).then(() => 0) ?? 0;
  const command = commands[name];
  try {
    if (command === undefined) throw usageError(`unknown command "${name}"`, usage);
    return (await command(rest)) ?? 0;
  } catch (error) {
    return report(error);
  }
}

/** Prints an error for people and returns the exit code: 2 for a bad command line, 1 otherwise. */
function report(error: unknown): number {
  // Every command parses its flags with parseCommandLine, so a bad flag arrives as FL_ERR_USAGE.
  const isUsage = error instanceof FaultlineError && error.code === codes.usage;
  process.stderr.write(`faultline: ${messageOf(error)}\n`);
  if (isUsage) {
    const commandUsage = error instanceof FaultlineError ? error.details.usage : undefined;
    process.stderr.write(`\n${usageReminder(typeof commandUsage === 'string' ? commandUsage : usage)}`);
    return 2;
  }
  return 1;
}

function packageVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

// Output piped into `head` and the like: a closed pipe ends the command quietly, as with other tools —
// on stdout or stderr (`… 2>&1 | head -1`), for every command (they all print through these streams).
// Nothing more can be printed there, so no message: the exit code is the command's, if it has one.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
