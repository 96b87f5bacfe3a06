/**
 * Which client errors prove that an operation did not take effect (the Recorder records `fail`) rather
 * than leave it unknown (`info`). The errors of common Node clients are recognised by their shape —
 * `code`, `name`, the constructor's name, a Postgres SQLSTATE — so none of those packages is imported.
 * The table with the reasons is in docs/histories.md ("Which errors are definite").
 */

/**
 * Thrown by a client call to say the operation definitely did not take effect (recorded as `fail`).
 * It is a marker for user code to throw, not an error faultline raises.
 */
export class FailError extends Error {
  override readonly name = 'FailError';
}

/**
 * `code`s raised before a request leaves the client: the connection was refused, or the name did not
 * resolve (Node's net and dns, and every client built on them), or undici's (fetch's) connect timed out.
 * ETIMEDOUT, ECONNRESET, EPIPE are not here: they also end connections a request was already sent on.
 */
const notSentCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * nats.js (v2) NatsError codes: "503" — no responders (or JetStream not enabled): the server had no
 * subscriber to hand the request to; CONNECTION_REFUSED — `connect()` reached no server.
 */
const natsCodes = new Set(['503', 'CONNECTION_REFUSED']);

/**
 * node-redis errors, which set no `name` or `code` of their own, so their constructor's name is what
 * shows: ClientClosedError and ClientOfflineError reject a command before it is written (a closed client;
 * an offline one with `disableOfflineQueue`); WatchError means EXEC did not run the transaction. (undici's
 * ClientClosedError is the same: a request dispatched after `close()`.)
 */
const notRunConstructors = new Set(['ClientClosedError', 'ClientOfflineError', 'WatchError']);

type ErrorShape = {
  readonly code?: unknown;
  readonly name?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
};

const constructorName = (error: object): unknown =>
  (error as { constructor?: { name?: unknown } }).constructor?.name;

/**
 * True when `test` holds for `error` or an error of its `cause` chain, or for every error of an
 * AggregateError (net.connect with several addresses fails with one of its attempts). The depth bound
 * also ends cause cycles.
 */
function inChain(error: unknown, test: (error: ErrorShape & object) => boolean): boolean {
  const visit = (e: unknown, depth: number): boolean => {
    if (depth > 8 || typeof e !== 'object' || e === null) return false;
    if (test(e)) return true;
    const { cause, errors } = e as ErrorShape;
    if (Array.isArray(errors) && errors.length > 0 && errors.every((inner) => visit(inner, depth + 1)))
      return true;
    return visit(cause, depth + 1);
  };
  return visit(error, 0);
}

/**
 * The default classification, right for any operation whose call makes one request: a FailError; a
 * refused connection or a failed name lookup (ECONNREFUSED, ENOTFOUND, EAI_AGAIN); undici's connect
 * timeout (UND_ERR_CONNECT_TIMEOUT, also as the `cause` of fetch's "fetch failed"); nats.js "no
 * responders" (503) and CONNECTION_REFUSED; node-redis's ClientClosedError, ClientOfflineError and
 * WatchError — anywhere in the `cause` chain, or every error of an AggregateError.
 */
export function isDefiniteFailure(error: unknown): boolean {
  return inChain(error, (e) => {
    if (e instanceof FailError) return true;
    const { code, name } = e;
    if (typeof code === 'string' && notSentCodes.has(code)) return true;
    if (name === 'NatsError' && typeof code === 'string' && natsCodes.has(code)) return true;
    const made = constructorName(e);
    return typeof made === 'string' && notRunConstructors.has(made);
  });
}

/**
 * Redis commands whose error reply may come after part of their work is done: a script or function
 * stops at the failing call with the writes before it kept, and EXEC runs the other commands of a
 * transaction when one fails.
 */
const partialCommands = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'exec']);

/** Error replies that even a script or EXEC gets before anything runs. */
const beforeRunPrefixes = ['NOSCRIPT ', 'EXECABORT '];

/**
 * A Redis error reply (`-ERR …`, `-WRONGTYPE …`, `-READONLY …`, `-OOM …`): the server refused the command,
 * which did nothing. ioredis: a ReplyError (its `name`), with `command.name` — a script or EXEC error is
 * definite only when it is NOSCRIPT or EXECABORT. node-redis: an ErrorReply (SimpleError, BlobError by
 * constructor; not MultiErrorReply, whose transaction ran the other commands).
 */
function redisRefused(error: ErrorShape & object): boolean {
  const made = constructorName(error);
  const nodeRedis = made === 'ErrorReply' || made === 'SimpleError' || made === 'BlobError';
  if (error.name !== 'ReplyError' && !nodeRedis) return false;
  const command = (error as { command?: { name?: unknown } }).command?.name;
  if (typeof command !== 'string' || !partialCommands.has(command.toLowerCase())) return true;
  const message = typeof error.message === 'string' ? error.message : '';
  return beforeRunPrefixes.some((prefix) => message.startsWith(prefix));
}

/**
 * SQLSTATE classes (two characters) of an ERROR that rolls back the statement (and the transaction it
 * is in): data exceptions, constraint violations, invalid transaction state, serialization failures and
 * deadlocks, syntax and access errors, insufficient resources, limits, locks not available, PL/pgSQL
 * RAISE… Not here: 08 (connection exception), 57 (operator intervention: a shutdown can end a session
 * after its COMMIT), 58 and XX (system, internal), and 40003 (statement completion unknown).
 */
const rolledBackClasses = new Set([
  '09',
  '0A',
  '0B',
  '21',
  '22',
  '23',
  '25',
  '26',
  '27',
  '28',
  '2B',
  '2D',
  '2F',
  '34',
  '38',
  '39',
  '3B',
  '3D',
  '3F',
  '40',
  '42',
  '44',
  '53',
  '54',
  '55',
  'P0',
]);

/** pg-pool's error when no client became free within `connectionTimeoutMillis`: no query was sent. */
const poolTimeoutMessage = 'timeout exceeded when trying to connect';

/**
 * A Postgres error (pg's DatabaseError: `name` "error", a `severity`, and `code` the SQLSTATE) that rolled
 * back what it ended: a class of `rolledBackClasses`, or 57014 (query canceled, e.g. by
 * statement_timeout — a cancel cannot land inside COMMIT). Also pg-pool's connect timeout.
 */
function pgRolledBack(error: ErrorShape & object): boolean {
  if (error.message === poolTimeoutMessage) return true;
  const { code, name } = error;
  const severity = (error as { severity?: unknown }).severity;
  if (name !== 'error' || typeof severity !== 'string') return false;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return false;
  if (code === '57014') return true;
  return code !== '40003' && rolledBackClasses.has(code.slice(0, 2));
}

/**
 * Classifiers for the `definite` option of the Recorder (or of one call), for errors that prove nothing
 * was applied only when the call is one command, one statement or one transaction — which only the
 * caller knows: a call that runs two statements outside a transaction and fails at the second has
 * applied the first.
 *
 *   new Recorder({ definite: clientErrors.pg })
 */
export const clientErrors: {
  /** A Redis error reply (ioredis ReplyError, node-redis ErrorReply); see docs/histories.md. */
  readonly redis: (error: unknown) => boolean;
  /** A Postgres error that rolled the statement or transaction back (pg DatabaseError by SQLSTATE). */
  readonly pg: (error: unknown) => boolean;
} = {
  redis: (error) => inChain(error, redisRefused),
  pg: (error) => inChain(error, pgRolledBack),
};
