/** faultline/history — the Op model, history files (JSON lines, Jepsen EDN and logs) and the Recorder. */
import { type Clock, realClock } from '../core/clock.js';
import {
  Recorder as HistoryRecorder,
  type RecorderOptions as HistoryRecorderOptions,
} from '../history/recorder.js';

export {
  EdnKeyword,
  EdnSymbol,
  type EdnValue,
  keyword,
} from '../history/edn.js';
export {
  buildHistory,
  detectFormat,
  type HistoryFormat,
  historyFormats,
  type OpInput,
  type ParsedHistory,
  type ParseHistoryOptions,
  parseHistory,
  serializeHistory,
  type ValidateHistoryOptions,
  validateHistory,
} from '../history/formats.js';
export {
  type History,
  historyError,
  type Op,
  type Operation,
  type OpType,
  opTypes,
  type ProcessId,
  pairOperations,
} from '../history/op.js';
export {
  type CallOptions,
  type CallOutcome,
  clientErrors,
  defaultReads,
  FailError,
  isDefiniteFailure,
} from '../history/recorder.js';

/** `Recorder`'s options; `clock` defaults to `realClock` here, at the package boundary. */
export type RecorderOptions = Omit<HistoryRecorderOptions, 'clock'> & { readonly clock?: Clock };

/**
 * Records a history of client calls in Jepsen's model (see src/history/recorder.ts): the history's
 * recorder with the real clock unless given another (a `VirtualClock` to simulate).
 */
export class Recorder extends HistoryRecorder {
  constructor(options: RecorderOptions = {}) {
    super({ ...options, clock: options.clock ?? realClock });
  }
}
