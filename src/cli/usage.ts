import { type ParseArgsConfig, parseArgs } from 'node:util';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { Random } from '../core/random.js';

/** A bad command line: printed with the usage of the command, exit code 2. */
export function usageError(message: string, usage: string): FaultlineError {
  return new FaultlineError(codes.usage, message, { details: { usage } });
}

/** `parseArgs`, whose refusals (an unknown or malformed flag) name the command's own usage. */
export function parseCommandLine<const T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw usageError(messageOf(error), usage);
  }
}

/** A `--seed` flag's value (undefined when not given); a bad one is a usage error naming the flag. */
export function usageSeed(text: string | undefined, usage: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return Random.parseSeed(text, '--seed');
  } catch (error) {
    throw usageError(messageOf(error), usage);
  }
}
