/**
 * The mechanism every scenario workload shares: `clients` concurrent client loops (processes 0 …
 * clients - 1) issuing `ops` calls in all, each recorded by one Recorder within `timeoutMs`; then, when
 * asked (`finish`: the runner asks after the heals), a final phase (a kv scan, a set's or counter's last
 * read, a queue's drain) on process 0. What each call is comes from an OpSource (workload-protocol.ts,
 * workload-module.ts). Bounded: `ops` calls, then at most `ops + 1` final calls, each within its timeout
 * and repeated for at most `finalWaitMs` while the service does not answer; `stop()` ends the loops
 * after their call in flight.
 */
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Op } from '../history/index.js';
import { type CallOutcome, FailError, Recorder } from '../history/index.js';

/** One call a client makes: recorded as `f` with `value`; `run` performs it (rejects on failure). */
export interface Call {
  readonly f: string;
  readonly value: unknown;
  /** Whether its ok records what `run` returned (a read), not `value`; default: by `f` (the Recorder's). */
  readonly read?: boolean;
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
      ...(call.read === undefined ? {} : { read: call.read }),
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
  readonly clock: Clock;
  /**
   * How long a final call is repeated while the service does not answer (refused, timed out): after a
   * heal a killed service may still be restarting.
   */
  readonly finalWaitMs: number;
}

/** How long final calls wait for a service that does not answer: a few of its call timeouts, 5 s at least. */
export const finalWaitMs = (timeoutMs: number): number => Math.max(5000, 5 * timeoutMs);

/** Runs the client loops, then (`finish`) the final phase; `stop` ends the loops early. */
export class Driver {
  private stopping = false;
  private finalPhase = true;
  private issued = 0;
  private failure: unknown;
  private source: OpSource | undefined;
  private finished: Promise<void> | undefined;
  /** Cuts a pause between final attempts when the final phase is called off. */
  private readonly cut = new AbortController();

  constructor(
    private readonly tally: Tally,
    private readonly options: DriverOptions,
  ) {}

  /** Stops issuing calls; `finish` still makes the final calls unless `finalReads` is false. */
  stop(finalReads: boolean): void {
    this.stopping = true;
    if (!finalReads) {
      this.finalPhase = false;
      this.cut.abort();
    }
  }

  /** The client loops: resolves once all `ops` calls are answered, or the loops are stopped. */
  async run(source: OpSource): Promise<void> {
    this.source = source;
    const loops = Array.from({ length: this.options.clients }, (_, process) =>
      this.loop(source, process, this.options.random.fork(`client-${process}`)),
    );
    await Promise.all(loops);
    if (this.failure !== undefined) throw this.failure;
  }

  /** The final phase, once (later calls wait for the same); call it after `run` has settled. */
  finish(): Promise<void> {
    this.finished ??= this.finalCalls();
    return this.finished;
  }

  private async finalCalls(): Promise<void> {
    const source = this.source;
    if (source?.final === undefined || this.failure !== undefined) return;
    let previous: CallOutcome<unknown> | undefined;
    for (let count = 0; count <= this.options.ops && this.finalPhase; count++) {
      const call = source.final(previous);
      if (call === undefined) return;
      previous = await this.answered(call);
    }
  }

  /**
   * Records `call`, again (each attempt an op of the history) while the service does not answer — for at
   * most `finalWaitMs`, pausing 100 ms doubling to 1 s — so the final reads see the service back up.
   * A refusal of the protocol (a FailError) is an answer.
   */
  private async answered(call: Call): Promise<CallOutcome<unknown>> {
    const { clock } = this.options;
    const deadline = clock.now() + this.options.finalWaitMs;
    for (let pauseMs = 100; ; pauseMs = Math.min(2 * pauseMs, 1000)) {
      const outcome = await this.tally.record(0, call);
      if (outcome.type === 'ok' || outcome.error instanceof FailError) return outcome;
      if (!this.finalPhase || clock.now() + pauseMs >= deadline) return outcome;
      await clock.sleep(pauseMs, this.cut.signal).catch(() => {});
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
