import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closest } from '../core/assert.js';
import { codes } from '../core/codes.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { Random } from '../core/random.js';

/** A bad command line: printed with the usage of the command, exit code 2. */
export function usageError(message: string, usage: string): FaultlineError {
  return new FaultlineError(codes.usage, message, { details: { usage } });
}

/**
 * What follows a refusal on stderr: the command's usage line and where the rest is (the whole usage
 * would push the error itself off the screen).
 */
export function usageReminder(usage: string): string {
  const first = usage.split('\n', 1)[0] ?? '';
  const command = /^Usage: (faultline(?: [a-z-]+)?)/.exec(first)?.[1] ?? 'faultline';
  const what = command === 'faultline' ? 'lists every command' : 'shows every option';
  return `${first}\n(${command} --help ${what})\n`;
}

/** `parseArgs`, whose refusals (an unknown or malformed flag) name the command's own usage. */
export function parseCommandLine<const T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw usageError(unknownFlagHint(error, Object.keys(config.options ?? {})) ?? messageOf(error), usage);
  }
}

/** Node's words for an unknown flag, shortened, with the flag a typo most likely meant. */
function unknownFlagHint(error: unknown, flags: readonly string[]): string | undefined {
  const flag = /^Unknown option '(--?[^']+)'/.exec(messageOf(error))?.[1];
  if (flag === undefined) return undefined;
  const guess = closest(flag.replace(/^-+/, ''), flags);
  return `unknown option ${flag}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`;
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
