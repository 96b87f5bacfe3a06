import { readFile } from 'node:fs/promises';
import { messageOf } from '../core/errors.js';
import { readDocument, scenarioJsonSchema, validateScenario } from '../scenario/index.js';
import './fault-families.js';
import { parseCommandLine, usageError } from './usage.js';

const validateUsage = `Usage: faultline validate <file…>

Checks scenario files (.toml, .yaml/.yml or .json) against the format without running anything: every
field, unknown keys, and each fault's parameters against its kind. Prints one line per file.

Exit codes: 0 all valid, 3 a file is not (file:line:column, the field and what would be valid).

Options:
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
      options: { help: { type: 'boolean', short: 'h', default: false } },
    },
    validateUsage,
  );
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
    } catch (error) {
      invalid++;
      const message = messageOf(error);
      process.stderr.write(`${message.startsWith(file) ? message : `${file}: ${message}`}\n`);
    }
  }
  return invalid === 0 ? 0 : 3;
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
