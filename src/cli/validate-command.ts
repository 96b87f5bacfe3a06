import { readFile } from 'node:fs/promises';
import { messageOf } from '../core/errors.js';
import { Random } from '../core/random.js';
import {
  methodLimitMs,
  readDocument,
  resolveSchedule,
  type Scenario,
  scenarioJsonSchema,
  validateScenario,
} from '../scenario/index.js';
import { parseCommandLine, usageError } from './usage.js';

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

const schemaUsage = `Usage: faultline schema

Prints the scenario format as JSON Schema (2020-12), generated from the same definition the validator
uses and from the fault registry; point an editor at it for completion.

Options:
  -h, --help  show this help
`;

/** Scenario files larger than this are refused: a scenario is a page, not a data set. */
const maxScenarioBytes = 1024 * 1024;

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
  const seedOption = values.seed === undefined ? undefined : parseSeed(values.seed);
  if (values.help) {
    process.stdout.write(validateUsage);
    return 0;
  }
  if (positionals.length === 0) throw usageError('expected at least one scenario file', validateUsage);
  let invalid = 0;
  for (const file of positionals) {
    try {
      const text = await readFile(file, 'utf8');
      if (Buffer.byteLength(text) > maxScenarioBytes) {
        throw new Error(`${file}: larger than ${maxScenarioBytes} bytes; a scenario is at most 1 MiB`);
      }
      const scenario = validateScenario(readDocument(file, text));
      const faults = scenario.faults?.length ?? 0;
      process.stdout.write(`ok ${file}: "${scenario.experiment.name}", ${faults} fault(s)\n`);
      if (values.schedule) printSchedule(scenario, seedOption);
    } catch (error) {
      invalid++;
      const message = messageOf(error);
      process.stderr.write(`${message.startsWith(file) ? message : `${file}: ${message}`}\n`);
    }
  }
  return invalid === 0 ? 0 : 3;
}

function parseSeed(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw usageError(
      `--seed: expected an integer from 0 to 2^53 - 1, got ${JSON.stringify(text)}`,
      validateUsage,
    );
  }
  return Number(text);
}

/** `  seed 7` then one line per injection: `  +5.000s  inject tcp.latency … (faults[0]), heal at +25.000s`. */
export function printSchedule(scenario: Scenario, seedOption: number | undefined): void {
  const seed = seedOption ?? scenario.experiment.seed ?? Random.freshSeed();
  const planned = resolveSchedule(scenario.faults ?? [], { seed, limitMs: methodLimitMs(scenario) });
  const time = (ms: number): string => `+${(ms / 1000).toFixed(3)}s`;
  process.stdout.write(
    `  seed ${seed}: ${planned.length} injection(s) within ${time(methodLimitMs(scenario))}\n`,
  );
  for (const step of planned) {
    const heal =
      step.healAtMs === undefined ? 'healed at the end of the method' : `healed at ${time(step.healAtMs)}`;
    process.stdout.write(
      `  ${time(step.atMs)}  ${step.kind} ${JSON.stringify(step.params)} (faults[${step.entry}] tick ${step.tick}), ${heal}\n`,
    );
  }
}

export async function schemaCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    { args: argv, options: { help: { type: 'boolean', short: 'h', default: false } } },
    schemaUsage,
  );
  if (values.help) {
    process.stdout.write(schemaUsage);
    return 0;
  }
  process.stdout.write(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
  return 0;
}
