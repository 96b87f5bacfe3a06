/** faultline/history — the Op model, history files (JSON lines, Jepsen EDN and logs) and the Recorder. */
export {
  type EdnForm,
  EdnKeyword,
  EdnReader,
  type EdnReadOptions,
  EdnSymbol,
  type EdnValue,
  type EdnWriteOptions,
  isKeywordName,
  keyword,
  readEdn,
  readEdnAll,
  writeEdn,
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
  FailError,
  isDefiniteFailure,
  Recorder,
  type RecorderOptions,
} from '../history/recorder.js';
