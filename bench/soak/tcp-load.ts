/**
 * The TCP clients of the soak, run in the benchmark process: up to `concurrency` connections at once,
 * each opened, used once (a request echoed back) and closed, round-robin over the scenarios' proxies,
 * half of them half-closing. Every byte that comes back is compared with what was sent, as it arrives,
 * against one shared random pattern (so checking costs no memory per connection).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Random } from '../../src/core/random.js';
import {
  type ClientMode,
  type ConnectionRecord,
  type ModeFigures,
  requestSize,
  type Scenario,
  type ScenarioFigures,
} from '../../test/support/soak-scenarios.js';

export interface TcpTarget {
  readonly scenario: Scenario;
  readonly port: number;
}

const host = '127.0.0.1';
const patternBytes = 1024 * 1024;
const maxExamples = 5;

function emptyFigures(): ModeFigures {
  return {
    connections: 0,
    bytesSent: 0,
    bytesReceived: 0,
    lostBytes: 0,
    violations: 0,
    examples: [],
    errors: {},
    differingBytes: 0,
  };
}

export interface TcpLoadOptions {
  readonly targets: readonly TcpTarget[];
  readonly concurrency: number;
  readonly durationMs: number;
  readonly random: Random;
  /** A connection still open this long after it started is destroyed and counted as hung. */
  readonly connectionDeadlineMs: number;
  /** Client source addresses, used in turn, so ephemeral ports never run short. */
  readonly sources: readonly string[];
  /** Which client modes to use (default both, alternating). */
  readonly modes: readonly ClientMode[];
}

/** Runs connections until `durationMs` has passed, then waits for those in flight to finish. */
export class TcpLoad {
  readonly figures = new Map<string, ScenarioFigures>();
  private readonly pattern: Buffer;
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;
  private started = 0;
  private completed = 0;
  private stopping = false;
  private endAt = 0;
  private done: (() => void) | undefined;

  constructor(private readonly options: TcpLoadOptions) {
    const random = options.random.fork('pattern');
    this.pattern = Buffer.alloc(patternBytes);
    for (let i = 0; i < patternBytes; i += 4) this.pattern.writeUInt32LE(random.nextUint32(), i);
    for (const { scenario } of options.targets) {
      const perMode = {} as ScenarioFigures;
      for (const mode of options.modes) perMode[mode] = emptyFigures();
      this.figures.set(scenario.name, perMode);
    }
  }

  get open(): number {
    return this.inFlight;
  }

  get finished(): number {
    return this.completed;
  }

  run(): Promise<void> {
    this.endAt = performance.now() + this.options.durationMs;
    return new Promise((resolve) => {
      this.done = resolve;
      // Open the first wave in slices, so the listeners' backlogs are not flooded in one turn.
      const wave = (left: number): void => {
        if (this.stopping) return;
        for (let i = 0; i < Math.min(100, left); i++) this.launch();
        if (left > 100) setImmediate(() => wave(left - 100));
      };
      wave(this.options.concurrency);
    });
  }

  /** Destroys every open connection (an interrupted run). */
  stop(): void {
    this.stopping = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private launch(): void {
    const { targets, random, modes, sources } = this.options;
    const index = this.started++;
    const target = targets[index % targets.length] as TcpTarget;
    const mode = modes[Math.floor(index / targets.length) % modes.length] as ClientMode;
    const size = requestSize(target.scenario.maxBytes, random.next());
    const offset = random.int(patternBytes - size + 1);
    const pieces = mode === 'interactive' ? 1 + random.int(3) : 1;
    this.inFlight++;
    this.connection(target, mode, size, offset, pieces, sources[index % sources.length] as string);
  }

  private connection(
    target: TcpTarget,
    mode: ClientMode,
    size: number,
    offset: number,
    pieces: number,
    localAddress: string,
  ): void {
    const request = this.pattern.subarray(offset, offset + size);
    const record: ConnectionRecord = {
      scenario: target.scenario.name,
      mode,
      size,
      received: 0,
      matched: 0,
      differing: 0,
      gotEnd: false,
      error: undefined,
      hung: false,
      connectStartMs: performance.now(),
      endSentMs: undefined,
      firstByteMs: undefined,
      closedMs: undefined,
    };
    const socket = connect({ host, port: target.port, localAddress });
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const timers: NodeJS.Timeout[] = [];
    const deadline = setTimeout(() => {
      record.hung = true;
      socket.destroy();
    }, this.options.connectionDeadlineMs);
    const finishRequest = (): void => {
      if (record.endSentMs !== undefined || socket.destroyed) return;
      record.endSentMs = performance.now();
      socket.end();
    };
    socket.once('connect', () => {
      if (mode === 'half-close') {
        socket.end(request);
        record.endSentMs = performance.now();
        return;
      }
      // Interactive: the request in pieces a millisecond apart (each piece schedules the next: timers of
      // different durations may fire out of order on a late event loop); end() once the reply is whole.
      const step = Math.ceil(size / pieces);
      const writePiece = (i: number): void => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(request.subarray(i * step, Math.min(size, (i + 1) * step)));
        if (i + 1 < pieces) timers.push(setTimeout(() => writePiece(i + 1), 1));
      };
      writePiece(0);
    });
    socket.on('data', (chunk: Buffer) => {
      if (record.firstByteMs === undefined) record.firstByteMs = performance.now();
      this.verify(record, request, chunk);
      if (mode === 'interactive' && record.received >= size) finishRequest();
    });
    socket.once('end', () => {
      record.gotEnd = true;
      record.closedMs = performance.now();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      record.error = error.code ?? error.message;
      record.closedMs ??= performance.now();
    });
    socket.once('close', () => {
      clearTimeout(deadline);
      for (const timer of timers) clearTimeout(timer);
      this.sockets.delete(socket);
      this.record(target.scenario, record);
    });
  }

  private verify(record: ConnectionRecord, request: Buffer, chunk: Buffer): void {
    const start = record.received;
    record.received += chunk.length;
    const within = Math.max(0, Math.min(chunk.length, request.length - start));
    if (within === 0) return;
    const expected = request.subarray(start, start + within);
    const got = within === chunk.length ? chunk : chunk.subarray(0, within);
    if (got.equals(expected)) {
      if (record.matched === start) record.matched += within;
      return;
    }
    let prefix = record.matched === start;
    for (let i = 0; i < within; i++) {
      if (got[i] === expected[i]) {
        if (prefix) record.matched++;
      } else {
        prefix = false;
        record.differing++;
      }
    }
  }

  private record(scenario: Scenario, record: ConnectionRecord): void {
    const figures = (this.figures.get(scenario.name) as ScenarioFigures)[record.mode];
    figures.connections++;
    figures.bytesSent += record.size;
    figures.bytesReceived += record.received;
    figures.differingBytes += record.differing;
    if (record.error !== undefined) figures.errors[record.error] = (figures.errors[record.error] ?? 0) + 1;
    if (scenario.preserving) figures.lostBytes += record.size - record.matched;
    const problem = scenario.check(record);
    if (problem !== undefined) {
      figures.violations++;
      if (figures.examples.length < maxExamples) figures.examples.push(`${record.mode}: ${problem}`);
    }
    this.inFlight--;
    this.completed++;
    if (!this.stopping && performance.now() < this.endAt) this.launch();
    else if (this.inFlight === 0) this.done?.();
  }
}
