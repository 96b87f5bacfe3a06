import { readFile, stat } from 'node:fs/promises';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { readDocument } from './document.js';
import { type Scenario, validateScenario } from './format.js';

/** Scenario files larger than this are refused: a scenario is a page, not a data set. */
export const maxScenarioBytes = 1024 * 1024;

/**
 * Reads and validates a scenario file. Every refusal is FL_ERR_CONFIG whose message starts with the file
 * (and its line and column, where the mistake has one): a missing file, one over 1 MiB, a syntax error, a
 * field that is not valid. Nothing is started.
 */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    const { size } = await stat(file);
    if (size > maxScenarioBytes) {
      throw new Error(`larger than ${maxScenarioBytes} bytes; a scenario is at most 1 MiB`);
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FaultlineError(codes.config, `${file}: ${messageOf(error)}`, {
      cause: error,
      details: { file },
    });
  }
  return validateScenario(readDocument(file, text));
}
