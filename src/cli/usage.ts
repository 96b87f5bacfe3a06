import { codes } from '../core/codes.js';
import { FaultlineError } from '../core/errors.js';

/** A bad command line: printed with the usage of the command, exit code 2. */
export function usageError(message: string, usage: string): FaultlineError {
  return new FaultlineError(codes.usage, message, { details: { usage } });
}
