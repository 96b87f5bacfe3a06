import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, invalid, requireObject } from '../core/assert.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { type FaultlineEvent, runPhases, subscribe } from '../core/events.js';
import { type ParamSpec, type ParamSpecs, paramsJsonSchema, validateParams } from '../core/params.js';

/**
 * The run journal: one JSON record per line. A `journal` header first (what ran, with which seed, how
 * to replay it), then every Event of the run in the order it was published, then a `verdict` record.
 * A journal without a `verdict` line is a run that was killed before it could finish. The record types
 * are defined once below: the same specs validate a record and publish the JSON Schema
 * (`faultline schema --journal`); docs/journal.md describes them.
 */
export const journalVersion = 1;

/** A value kept as the event carried it (an op's value, a fault's params): any JSON. */
const anyJson = (description: string, optional = false): ParamSpec => ({
  type: 'shape',
  description,
  optional,
  check: (value) => value,
  schema: {},
});
const text = (description: string, optional = false): ParamSpec => ({
  type: 'string',
  description,
  optional,
});
const count = (description: string): ParamSpec => ({ type: 'number', integer: true, min: 0, description });
const ms = (description: string, optional = false): ParamSpec => ({
  type: 'number',
  unit: 'ms',
  description,
  optional,
});
/** One anomaly a check's summary names. */
const anomalyRef = (description: string): ParamSpec => ({
  type: 'object',
  description,
  fields: {
    message: text('for people'),
    timeNs: { type: 'number', unit: 'ns', optional: true, description: 'history time of its earliest op' },
    op: {
      type: 'number',
      integer: true,
      min: 0,
      optional: true,
      description: "that op's index in the history",
    },
    line: {
      type: 'number',
      integer: true,
      min: 0,
      optional: true,
      description: 'its line in the history file',
    },
  },
});
const atMs = ms("when, in ms on the run's clock (monotonic; subtract the `run` start's atMs for run time)");
const verdicts = ['pass', 'fail', 'unknown', 'error', 'interrupted'] as const;
const verdict: ParamSpec = { type: 'string', oneOf: verdicts, description: 'the verdict of the run' };
const validity: ParamSpec = {
  type: 'shape',
  description: 'true: the check held; false: it found anomalies; "unknown": it could not decide',
  check: (value, field) => {
    if (value === true || value === false || value === 'unknown') return value;
    throw invalid(field, `expected true, false or "unknown", got ${describe(value)}`);
  },
  schema: { enum: [true, false, 'unknown'] },
};
const stats: ParamSpec = {
  type: 'record',
  values: { type: 'number', description: 'a figure' },
  description: "the checker's counts and figures (ops checked, states explored, elapsed ms …)",
  optional: true,
};

/** The fields every op has; a recorder's `note` may add more (`node` …), so others are allowed. */
const opFields: ParamSpecs = {
  process: anyJson('the client (a number) or a named actor (a string, e.g. "nemesis")'),
  type: {
    type: 'string',
    oneOf: ['invoke', 'ok', 'fail', 'info'],
    description: 'invoke, then ok / fail / info (outcome unknown)',
  },
  f: text('the function: read, write, cas, add …'),
  value: anyJson('its value (null when none)'),
  time: { type: 'number', min: 0, unit: 'ns', description: 'ns since the history started (monotonic)' },
  index: count('its position in the history'),
  error: text('why it failed or is unknown', true),
};
const opRecord: ParamSpec = {
  type: 'shape',
  description: 'one history op (Jepsen model), as the workload recorded it',
  check: (value, field) => {
    const op = requireObject(value, field);
    const known = Object.fromEntries(Object.keys(opFields).map((key) => [key, op[key]]));
    validateParams(opFields, known, field);
    return value;
  },
  schema: { ...paramsJsonSchema(opFields), additionalProperties: true },
};

const checkSummary: ParamSpecs = {
  checker: text('the checker, as the scenario names it'),
  valid: validity,
  reason: text('why the check is undecided, when it is', true),
  anomalyCount: count('how many anomalies it found'),
};

/** Every record type of a journal line, keyed by its `type`. */
const recordTypes: Readonly<Record<string, ParamSpecs>> = {
  journal: {
    version: { type: 'number', integer: true, min: 1, max: 1, description: 'the journal format version' },
    faultline: text('the faultline version that wrote it'),
    scenario: {
      type: 'object',
      description: 'the scenario run',
      fields: {
        file: text('the scenario file, as given on the command line'),
        name: text('its experiment.name'),
        tags: { type: 'list', items: text('a tag'), description: 'its experiment.tags' },
      },
    },
    seed: { type: 'number', integer: true, description: 'the seed of every draw in the run' },
    startedAt: text('wall-clock start, ISO 8601 (UTC)'),
    replay: text('the command that replays the run'),
  },
  run: {
    state: { type: 'string', oneOf: ['start', 'end'], description: 'start: first event; end: last' },
    scenario: text('the experiment name'),
    seed: { type: 'number', integer: true, description: 'the seed' },
    verdict: { ...verdict, optional: true },
    reason: text('why, in a sentence (end only)', true),
    ops: { ...count('ops the workload recorded, invocations and completions (end only)'), optional: true },
    elapsedMs: ms('run time (end only)', true),
    atMs,
  },
  phase: {
    name: { type: 'string', oneOf: runPhases, description: 'the phase' },
    state: { type: 'string', oneOf: ['start', 'end'], description: 'whether it starts or ends' },
    atMs,
  },
  'fault.inject': {
    id: count('the Ledger entry id, shared with its fault.heal'),
    kind: text('the fault kind (`faultline faults` lists them)'),
    label: text('what was done, for people'),
    params: anyJson('its parameters; a live object (a proxy, a target) appears by name'),
    atMs,
  },
  'fault.heal': {
    id: count('the id of the fault.inject it heals'),
    label: text('what was undone'),
    error: anyJson('why the heal failed, when it did', true),
    atMs,
  },
  probe: {
    name: text('the probe (steady-state entry name)'),
    ok: { type: 'boolean', description: 'whether it passed' },
    durationMs: ms('how long the check took'),
    error: text('why it failed', true),
    atMs,
  },
  op: { op: opRecord },
  schedule: {
    injections: {
      type: 'list',
      description: 'the fault schedule resolved from the seed, as the method starts',
      items: {
        type: 'object',
        description: 'one planned injection',
        fields: {
          entry: count("the index of its entry in the scenario's faults"),
          name: text("its entry's name", true),
          tick: count('which tick of its entry'),
          atMs: ms('when, planned: from the method start, or from its conditions (start)'),
          healAtMs: ms('when it heals, planned (absent: at the end of the method)', true),
          start: anyJson('the conditions its entry waits for (afterOps, after, whenGreen)', true),
          kind: text('the fault kind'),
          params: anyJson('its parameters, targets by name'),
        },
      },
    },
    atMs,
  },
  check: {
    ...checkSummary,
    anomalies: {
      type: 'list',
      description: 'the first (at most 20) anomalies',
      items: {
        type: 'object',
        description: 'one anomaly',
        fields: { type: text('its kind: lost, non-linearizable …'), message: text('for people') },
      },
    },
    summaries: {
      type: 'list',
      optional: true,
      description: 'every anomaly, summarised by kind (absent when there are none)',
      items: {
        type: 'object',
        description: 'the anomalies of one kind',
        fields: {
          type: text('the kind'),
          count: count('how many'),
          first: anomalyRef('the earliest in history time'),
          last: anomalyRef('the latest in history time'),
          sample: {
            type: 'list',
            description: 'a few, spread over the time order',
            items: anomalyRef('one anomaly'),
          },
        },
      },
    },
    stats,
    atMs,
  },
  cleanup: {
    residue: text('what was left behind'),
    outcome: {
      type: 'string',
      oneOf: ['undone', 'gone', 'failed', 'skipped'],
      description: 'what cleanup did about it',
    },
    detail: text('more, for people', true),
  },
  verdict: {
    verdict,
    reason: text('why, in a sentence'),
    elapsedMs: ms('run time'),
    ops: count('ops the workload recorded'),
    checks: {
      type: 'list',
      description: 'every check, in order',
      items: { type: 'object', description: 'a check', fields: checkSummary },
    },
    events: count('event records written between the header and this line'),
    endedAt: text('wall-clock end, ISO 8601 (UTC)'),
  },
};

const journalRecord: ParamSpec = {
  type: 'variant',
  tag: 'type',
  variants: recordTypes,
  description: 'the record type',
};

/** The JSON Schema (2020-12) of one journal line. */
export function journalJsonSchema(): Record<string, unknown> {
  const properties = paramsJsonSchema({ record: journalRecord }).properties as Record<string, object>;
  const { oneOf } = properties.record as { oneOf: unknown[] };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://faultline.dev/schema/journal.json',
    title: 'faultline journal record (one line of a run journal)',
    description: `format version ${journalVersion}: a "journal" header, the run's events, a "verdict" record`,
    oneOf,
  };
}

/** Checks one parsed journal line against the record definitions; throws FL_ERR_INVALID_ARGUMENT naming the field. */
export function validateJournalRecord(record: unknown, field = 'record'): JournalRecord {
  return validateParams<Record<string, JournalRecord>>({ [field]: journalRecord }, { [field]: record })[
    field
  ] as JournalRecord;
}

export interface JournalHeader {
  readonly type: 'journal';
  readonly version: typeof journalVersion;
  readonly faultline: string;
  readonly scenario: { readonly file: string; readonly name: string; readonly tags: readonly string[] };
  readonly seed: number;
  readonly startedAt: string;
  readonly replay: string;
}

export interface CheckSummary {
  readonly checker: string;
  readonly valid: true | false | 'unknown';
  readonly reason?: string;
  readonly anomalyCount: number;
}

export interface JournalVerdict {
  readonly type: 'verdict';
  readonly verdict: (typeof verdicts)[number];
  readonly reason: string;
  readonly elapsedMs: number;
  readonly ops: number;
  readonly checks: readonly CheckSummary[];
  readonly events: number;
  readonly endedAt: string;
}

export type JournalRecord = JournalHeader | FaultlineEvent | JournalVerdict;

/** One event (or record) as a JSON line; live objects in fault params (a proxy, a target) appear by name. */
export function journalLine(event: unknown): string {
  // Most lines are ops of plain values: they need no replacer, which costs more than the rest of the line.
  if ((event as { type?: unknown }).type === 'op' && flat((event as { op: unknown }).op))
    return JSON.stringify(event);
  return JSON.stringify(event, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `this[key]` is the value before its own toJSON ran: a TcpProxy has one, and is still named here.
    const original = key === '' ? value : this[key];
    if (typeof original === 'bigint') return original.toString();
    if (original instanceof Error) return original.message;
    if (typeof original === 'object' && original !== null && !Array.isArray(original)) {
      const prototype = Object.getPrototypeOf(original) as object | null;
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (original as { name?: unknown }).name;
        if (typeof name === 'string') return name;
        // A live object without a name of its own (a Network) appears as its kind, not "[object Object]".
        const text = String(original);
        return text === '[object Object]' ? `[${original.constructor?.name ?? 'object'}]` : text;
      }
    }
    return value;
  });
}

/** An object whose fields are all strings, finite numbers, booleans or null. */
function flat(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return false;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if (
      field !== null &&
      typeof field !== 'string' &&
      typeof field !== 'boolean' &&
      typeof field !== 'number'
    )
      return false;
  }
  return true;
}

export interface JournalWriterOptions {
  /** For the flush timer and the wall-clock `endedAt`. */
  readonly clock: Clock;
  /** Events held before a write (default 1024): the bound on the writer's memory. */
  readonly batchEvents?: number;
  /** At most this long between an event and its line being on disk (default 500 ms). */
  readonly flushMs?: number;
}

/**
 * Writes a journal as the run goes: the header at once, events in batches (at most `batchEvents` held,
 * written at least every `flushMs`), the verdict at `close`. Writes are synchronous — a batch of 1024
 * op lines is about 110 kB, serialised and written in about 2 ms, short enough not to disturb the fault
 * schedule — so whatever has been published is on disk even when the process exits at once (a second
 * Ctrl-C): the `exit` hook writes what is held and a verdict saying so. Memory: at most `batchEvents`
 * events (they are the run's own objects, already alive in its history) and one batch of text.
 */
export class JournalWriter {
  readonly path: string;
  private readonly fd: number;
  private readonly clock: Clock;
  private readonly batchEvents: number;
  private readonly flushMs: number;
  private pending: unknown[] = [];
  private written = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  private readonly onExit = (): void => {
    this.finish({
      verdict: 'interrupted',
      reason: 'the process exited before the run ended',
      elapsedMs: 0,
      ops: 0,
      checks: [],
    });
  };

  /** Creates (or truncates) `path`, making its directory, and writes the header. */
  constructor(path: string, header: Omit<JournalHeader, 'type' | 'version'>, options: JournalWriterOptions) {
    this.path = path;
    this.clock = options.clock;
    this.batchEvents = options.batchEvents ?? 1024;
    this.flushMs = options.flushMs ?? 500;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    writeSync(this.fd, `${journalLine({ type: 'journal', version: journalVersion, ...header })}\n`);
    process.on('exit', this.onExit);
  }

  /** Subscribes to every event until the returned function is called. */
  record(): () => void {
    return subscribe((event) => this.write(event));
  }

  write(event: FaultlineEvent): void {
    if (this.closed) return;
    this.pending.push(event);
    if (this.pending.length >= this.batchEvents) this.flush();
    else this.timer ??= this.clock.setTimeout(() => this.flush(), this.flushMs);
  }

  /** Writes the held events now. */
  flush(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 || this.closed) return;
    let text = '';
    for (const event of this.pending) text += `${journalLine(event)}\n`;
    this.written += this.pending.length;
    this.pending = [];
    writeSync(this.fd, text);
  }

  /** Writes what is held and the verdict record, and closes the file. Idempotent. */
  close(verdict: Omit<JournalVerdict, 'type' | 'events' | 'endedAt'>): void {
    this.finish(verdict);
  }

  private finish(verdict: Omit<JournalVerdict, 'type' | 'events' | 'endedAt'>): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
    const endedAt = new Date(this.clock.wallNow()).toISOString();
    const record = { type: 'verdict', ...verdict, events: this.written, endedAt };
    try {
      writeSync(this.fd, `${journalLine(record)}\n`);
    } finally {
      closeSync(this.fd);
    }
  }
}
