/** faultline — chaos engineering for TypeScript and Node.js. */
export { type Clock, RealClock, realClock, type TimerHandle } from '../core/clock.js';
export { codes, type ErrorCode } from '../core/codes.js';
export { formatDuration, parseDuration } from '../core/duration.js';
export { type ErrorDetails, FaultlineError, isFaultlineError } from '../core/errors.js';
export {
  type EventOf,
  type EventType,
  eventChannelNames,
  type FaultlineEvent,
  subscribe,
} from '../core/events.js';
export { applyWithHeal, type Fault, type FaultContext, type Injection } from '../core/fault.js';
export {
  createFault,
  defineFault,
  type FaultDefinition,
  type FaultFactory,
  type FaultKindInfo,
  faultKinds,
} from '../core/fault-registry.js';
export {
  defaultStateDir,
  Journal,
  type JournalOptions,
  type Residue,
  type ResidueRecord,
} from '../core/journal.js';
export { type Heal, Ledger, type LedgerEntry, type LedgerOptions } from '../core/ledger.js';
export type {
  BooleanParam,
  ListParam,
  NumberParam,
  ObjectParam,
  ParamSpec,
  ParamSpecs,
  RefParam,
  ShapeParam,
  StringParam,
} from '../core/params.js';
export { Random } from '../core/random.js';
export { VirtualClock } from '../core/virtual-clock.js';
export * from './api.js';
export * from './check.js';
export * from './history.js';
export * from './net.js';
export * from './process.js';
export * from './proxy.js';
export * from './resource.js';
