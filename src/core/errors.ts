import type { ErrorCode } from './codes.js';

export interface ErrorDetails {
  /** The offending field, dotted (`toxics[0].attributes.latency`). */
  readonly field?: string;
  /** A file the bad input came from. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** What would have been valid. */
  readonly expected?: string;
  readonly [key: string]: unknown;
}

/** The one error class of faultline: a stable `code`, a message for people, details for programs. */
export class FaultlineError extends Error {
  override readonly name = 'FaultlineError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isFaultlineError(error: unknown, code?: ErrorCode): error is FaultlineError {
  return error instanceof FaultlineError && (code === undefined || error.code === code);
}

/** The message of anything thrown, for wrapping foreign errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
