/**
 * The mechanism every scenario workload shares: `clients` concurrent client loops (processes 0 …
 * clients - 1) issuing `ops` calls in all, each recorded by one Recorder within `timeoutMs`, then a final
 * phase (a set's or counter's last read, a queue's drain) on process 0. What each call is comes from an
 * OpSource (workload-protocol.ts, workload-module.ts). Bounded: `ops` calls, then at most `ops + 1`
 * final calls, each within its timeout; `stop()` ends the loops after their call in flight.
 */
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Op } from '../history/index.js';
import { type CallOutcome, FailError, Recorder } from '../history/index.js';

/** One call a client makes: recorded as `f` with `value`; `run` performs it (rejects on failure). */
export interface Call {
  readonly f: string;
  readonly value: unknown;
  readonly run: (signal: AbortSignal) => Promise<unknown>;
}

export interface OpSource {
  /** The next call of `process`, its `n`-th (may throw: the workload then fails with that error). */
  next(process: number, n: number, random: Random): Call;
  /** Sees every outcome (to remember values read and written). */
  observe?(call: Call, outcome: CallOutcome<unknown>): void;
  /** The next final call, given the outcome of the previous one (undefined at first); undefined ends. */
  final?(previous: CallOutcome<unknown> | undefined): Call | undefined;
  /** Errors that definitely did not take effect, besides FailError and ECONNREFUSED. */
  readonly definite?: (error: unknown) => boolean;
}

/** The Recorder and the progress counters, shared by the loops of one workload. */
export class Tally {
  readonly recorder: Recorder;
  /** Calls answered (ok, fail or info). */
  opsSoFar = 0;
  /** Calls that ended info, or fail for another reason than a protocol refusal (a FailError). */
  errorsSoFar = 0;
  private logged = false;

  constructor(
    clock: Clock,
    private readonly timeoutMs: number,
    private readonly log: ((line: string) => void) | undefined,
    definite?: (error: unknown) => boolean,
  ) {
    this.recorder = new Recorder({ clock, ...(definite ? { definite } : {}) });
  }

  async record(process: number, call: Call): Promise<CallOutcome<unknown>> {
    const outcome = await this.recorder.attempt(process, call.f, call.value, call.run, {
      timeoutMs: this.timeoutMs,
    });
    this.opsSoFar++;
    if (outcome.type === 'info' || (outcome.type === 'fail' && !(outcome.error instanceof FailError))) {
      this.errorsSoFar++;
      if (!this.logged) {
        this.logged = true; // once: a service that is down would say the same for every call
        this.log?.(`workload: ${call.f} by client ${process}: ${outcome.op.error ?? outcome.type}`);
      }
    }
    return outcome;
  }

  history(): Op[] {
    return this.recorder.history();
  }
}

export interface DriverOptions {
  readonly clients: number;
  readonly ops: number;
  readonly random: Random;
}

/** Runs the client loops then the final phase; `stop` ends the loops early. */
export class Driver {
  private stopping = false;
  private finalPhase = true;
  private issued = 0;
  private failure: unknown;

  constructor(
    private readonly tally: Tally,
    private readonly options: DriverOptions,
  ) {}

  /** Stops issuing calls; the final phase still runs unless `finalReads` is false. */
  stop(finalReads: boolean): void {
    this.stopping = true;
    if (!finalReads) this.finalPhase = false;
  }

  async run(source: OpSource): Promise<void> {
    const loops = Array.from({ length: this.options.clients }, (_, process) =>
      this.loop(source, process, this.options.random.fork(`client-${process}`)),
    );
    await Promise.all(loops);
    if (this.failure !== undefined) throw this.failure;
    if (!this.finalPhase || source.final === undefined) return;
    let previous: CallOutcome<unknown> | undefined;
    for (let count = 0; count <= this.options.ops && this.finalPhase; count++) {
      const call = source.final(previous);
      if (call === undefined) return;
      previous = await this.tally.record(0, call);
    }
  }

  private async loop(source: OpSource, process: number, random: Random): Promise<void> {
    for (let n = 0; !this.stopping && this.issued < this.options.ops; n++) {
      this.issued++;
      let call: Call;
      try {
        call = source.next(process, n, random);
      } catch (error) {
        this.failure ??= error;
        this.stop(false);
        return;
      }
      const outcome = await this.tally.record(process, call);
      source.observe?.(call, outcome);
    }
  }
}
