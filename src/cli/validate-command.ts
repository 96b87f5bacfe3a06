import { messageOf } from '../core/errors.js';
import { journalJsonSchema } from '../report/index.js';
import {
  describeStart,
  loadScenario,
  methodLimitMs,
  resolveSchedule,
  type Scenario,
  scenarioJsonSchema,
  scenarioSeed,
} from '../scenario/index.js';
import { parseCommandLine, usageError, usageSeed } from './usage.js';

const validateUsage = `Usage: faultline validate [--schedule] [--seed N] <file…>

Checks scenario files (.toml, .yaml/.yml or .json) against the format without running anything: every
field, unknown keys, and each fault's parameters against its kind. Prints one line per file.

Exit codes: 0 all valid, 3 a file is not (file:line:column, the field and what would be valid).

Options:
  --schedule  also print each file's resolved fault schedule: when each fault is injected and healed,
              which one a oneOf drew, which ticks a probability skipped — from the seed alone
  --seed N    the seed for --schedule (default: the file's experiment.seed, else FAULTLINE_SEED, else a
              fresh one; printed)
  -h, --help  show this help
`;

const schemaUsage = `Usage: faultline schema [--journal]

Prints the scenario format as JSON Schema (2020-12), generated from the same definition the validator
uses and from the fault registry; point an editor at it for completion.

Options:
  --journal   print the JSON Schema of one line of a run journal instead (docs/journal.md)
  -h, --help  show this help
`;

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        schedule: { type: 'boolean', default: false },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    validateUsage,
  );
  const seedOption = usageSeed(values.seed, validateUsage);
  if (values.help) {
    process.stdout.write(validateUsage);
    return 0;
  }
  if (positionals.length === 0) throw usageError('expected at least one scenario file', validateUsage);
  let invalid = 0;
  for (const file of positionals) {
    try {
      const scenario = await loadScenario(file);
      const faults = scenario.faults?.length ?? 0;
      process.stdout.write(`ok ${file}: "${scenario.experiment.name}", ${faults} fault(s)\n`);
      if (values.schedule) printSchedule(scenario, seedOption);
    } catch (error) {
      invalid++;
      process.stderr.write(`${messageOf(error)}\n`);
    }
  }
  return invalid === 0 ? 0 : 3;
}

/**
 * `  seed 7` then one line per injection: `  +5.000s  tcp.latency … (faults[0] tick 0), healed at +25.000s`;
 * an entry with conditions counts from them: `  after 1000 ops: +0.000s  process.kill …`.
 */
export function printSchedule(scenario: Scenario, seedOption: number | undefined): void {
  const seed = scenarioSeed(scenario, seedOption);
  const limitMs = methodLimitMs(scenario);
  const planned = resolveSchedule(scenario.faults ?? [], { seed, limitMs });
  const time = (ms: number): string => `+${(ms / 1000).toFixed(3)}s`;
  // The schedule's horizon: the method's duration, or (without one) the time limit, which only bounds it.
  const horizon =
    scenario.experiment.duration === undefined
      ? `before the time limit (${limitMs / 1000} s); the method ends when the workload and schedule are done`
      : `within the method's ${limitMs / 1000} s`;
  process.stdout.write(`  seed ${seed}: ${planned.length} injection(s) ${horizon}\n`);
  for (const step of planned) {
    const heal =
      step.healAtMs === undefined ? 'healed at the end of the method' : `healed at ${time(step.healAtMs)}`;
    const when = step.start === undefined ? '' : `${describeStart(step.start)}: `;
    const entry = `faults[${step.entry}]${step.name === undefined ? '' : ` "${step.name}"`}`;
    process.stdout.write(
      `  ${when}${time(step.atMs)}  ${step.kind} ${JSON.stringify(step.params)} (${entry} tick ${step.tick}), ${heal}\n`,
    );
  }
}

export async function schemaCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    {
      args: argv,
      options: {
        journal: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    },
    schemaUsage,
  );
  if (values.help) {
    process.stdout.write(schemaUsage);
    return 0;
  }
  const schema = values.journal ? journalJsonSchema() : scenarioJsonSchema();
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
