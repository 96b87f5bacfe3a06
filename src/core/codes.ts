/** Stable error codes. Never renamed once released: users match on them. */
export const codes = {
  invalidArgument: 'FL_ERR_INVALID_ARGUMENT',
  invalidDuration: 'FL_ERR_INVALID_DURATION',
  notFound: 'FL_ERR_NOT_FOUND',
  alreadyExists: 'FL_ERR_ALREADY_EXISTS',
  addressInUse: 'FL_ERR_ADDRESS_IN_USE',
  listenFailed: 'FL_ERR_LISTEN_FAILED',
  unknownToxic: 'FL_ERR_UNKNOWN_TOXIC',
  config: 'FL_ERR_CONFIG',
  usage: 'FL_ERR_USAGE',
  healFailed: 'FL_ERR_HEAL_FAILED',
  aborted: 'FL_ERR_ABORTED',
  http: 'FL_ERR_HTTP',
  processFailed: 'FL_ERR_PROCESS',
  probeFailed: 'FL_ERR_PROBE',
  sloViolated: 'FL_ERR_SLO',
  permission: 'FL_ERR_PERMISSION',
  unavailable: 'FL_ERR_UNAVAILABLE',
  unauthorized: 'FL_ERR_UNAUTHORIZED',
  forbidden: 'FL_ERR_FORBIDDEN',
  methodNotAllowed: 'FL_ERR_METHOD_NOT_ALLOWED',
  tooLarge: 'FL_ERR_TOO_LARGE',
  timeout: 'FL_ERR_TIMEOUT',
  conflict: 'FL_ERR_CONFLICT',
  internal: 'FL_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof codes)[keyof typeof codes];
