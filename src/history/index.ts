/** history/'s surface for its neighbours: they import these from here, never its modules. */
export { decodeHistory } from './decode.js';
export { type HistoryFormat, historyFormats } from './formats.js';
export {
  type History,
  historyError,
  maxNestingDepth,
  type Op,
  type Operation,
  opTypes,
  type ProcessId,
  pairOperations,
  whereOf,
} from './op.js';
export {
  type CallOptions,
  type CallOutcome,
  clientErrors,
  defaultReads,
  FailError,
  isDefiniteFailure,
  Recorder,
  type RecorderOptions,
} from './recorder.js';
export { deepEqual, valueKey } from './value-key.js';
