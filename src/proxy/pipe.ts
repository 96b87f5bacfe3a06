import type { Socket } from 'node:net';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { Attributes, Direction, StageContext, ToxicKind, ToxicStage } from './toxic.js';

/** What a pipe needs from its connection. */
export interface PipeOwner {
  readonly clock: Clock;
  readonly acceptedAt: number;
  close(): void;
  reset(): void;
}

/** Byte counters of one direction, shared by all of a proxy's pipes of that direction. */
export interface DirectionCounters {
  bytesIn: number;
  bytesOut: number;
  bytesDropped: number;
}

interface Node {
  readonly name: string;
  readonly stage: ToxicStage;
  next: Node | undefined;
  removed: boolean;
  /** The stage passed the half-close on; anything it emits after that is dropped. */
  endSent: boolean;
  /** Bytes (and charges) this stage holds. */
  heldBytes: number;
  /** The stage was told the way after it is congested and waits for `resume()`. */
  waiting: boolean;
}

/**
 * Writes from toxics that may be in flight to the socket before the way counts as congested. The socket
 * asks to drain by bytes only, so without this a slicer of 1-byte pieces would queue thousands of writes.
 */
const maxPendingSinkWrites = 64;

/**
 * One direction of one proxied connection: source socket → toxic stages → sink socket.
 * With no toxics, chunks go straight from source to sink. Buffering is bounded end to end: the pipe
 * stops reading its source while its toxics hold more than `budgetBytes` (their bytes plus what their
 * held items cost) or the sink asks to drain; and a stage is told the way is congested while the toxics
 * after it hold more than the budget or the socket cannot take more, so no stage floods the next.
 */
export class Pipe {
  private head: Node | undefined;
  private heldBytes = 0;
  private waitingForDrain = false;
  private pendingSinkWrites = 0;
  private waitingNodes = 0;
  private paused = false;
  private ended = false;
  private closed = false;
  /** Called (once) before the first write to the sink: the connection opens a delayed upstream. */
  beforeFirstWrite: (() => void) | undefined;
  /** A stage asked to close the connection; it closes when the end reaches the sink. */
  private closeRequested = false;
  /** Runs once the half-close has been passed to the sink (see `whenEnded`). */
  private onSinkEnded: (() => void) | undefined;

  constructor(
    readonly direction: Direction,
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly owner: PipeOwner,
    private readonly counters: DirectionCounters,
    private readonly budgetBytes: number,
  ) {
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => this.onEnd());
    sink.on('drain', () => {
      this.waitingForDrain = false;
      this.updateFlow();
    });
  }

  /**
   * Bytes this direction holds in its toxics (with what their held items are charged, see
   * `queuedItemCostBytes`) and in the sink's userland write buffer.
   */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.heldBytes + this.sink.writableLength;
  }

  /**
   * Runs `callback` once the half-close has reached the sink: at once if it has, else after the toxics
   * have let out everything they hold ahead of it. Never runs if the pipe is disposed first.
   */
  whenEnded(callback: () => void): void {
    if (this.ended) callback();
    else this.onSinkEnded = callback;
  }

  /** Appends a toxic at the end of the chain (Toxiproxy's order: oldest first). */
  add(name: string, kind: ToxicKind, attributes: Attributes, random: Random): void {
    // A closed pipe gets no new stages: their timers would outlive the connection.
    if (this.closed) return;
    const node: Node = {
      name,
      stage: undefined as unknown as ToxicStage,
      next: undefined,
      removed: false,
      endSent: false,
      heldBytes: 0,
      waiting: false,
    };
    (node as { stage: ToxicStage }).stage = kind.create(this.stageContext(node, random), attributes);
    if (this.head === undefined) this.head = node;
    else {
      let last = this.head;
      while (last.next) last = last.next;
      last.next = node;
    }
  }

  update(name: string, attributes: Attributes): void {
    this.find(name)?.stage.update(attributes);
  }

  /** Removes a toxic; what it held goes on down the chain at once, in order. */
  remove(name: string): void {
    const node = this.find(name);
    if (node === undefined) return;
    // Flushed while still in the chain: a stage before it that wakes up meanwhile emits into it, behind
    // what it holds, and the same flush sends that on too; unlinked first, the newer data would overtake.
    node.stage.flush();
    if (this.head === node) this.head = node.next;
    else for (let prev = this.head; prev; prev = prev.next) if (prev.next === node) prev.next = node.next;
    node.removed = true;
    if (node.waiting) this.waitingNodes--;
    node.stage.dispose();
    // A stage that did not let everything go at the flush no longer holds it.
    this.heldBytes -= node.heldBytes;
    node.heldBytes = 0;
    // The stages before it may have waited for room.
    this.updateFlow();
  }

  /** The connection is gone: stop every stage's timers. */
  dispose(): void {
    this.closed = true;
    for (let node = this.head; node; node = node.next) node.stage.dispose();
    this.head = undefined;
  }

  private find(name: string): Node | undefined {
    for (let node = this.head; node; node = node.next) if (node.name === name) return node;
    return undefined;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.counters.bytesIn += chunk.length;
    if (this.head === undefined) {
      this.toSink(chunk);
      return;
    }
    this.hold(this.head, chunk.length);
    this.head.stage.write(chunk);
    this.updateFlow();
  }

  private onEnd(): void {
    if (this.closed) return;
    if (this.head === undefined) this.endSink();
    else this.head.stage.end();
  }

  private deliver(from: Node, chunk: Buffer): void {
    if (from.endSent) {
      this.drop(from, chunk.length);
      return;
    }
    const next = nextLive(from);
    this.hold(from, -chunk.length);
    if (next === undefined) {
      this.toSink(chunk, true);
      this.updateFlow();
    } else {
      this.hold(next, chunk.length);
      next.stage.write(chunk);
    }
  }

  /** Counts `bytes` (negative: no longer) as held by `node`. */
  private hold(node: Node, bytes: number): void {
    node.heldBytes += bytes;
    this.heldBytes += bytes;
  }

  private deliverEnd(from: Node): void {
    if (from.endSent) return;
    from.endSent = true;
    const next = nextLive(from);
    if (next === undefined) this.endSink();
    else next.stage.end();
  }

  /**
   * A stage closes the connection the way Toxiproxy does: as an end of stream that goes down the rest of
   * the chain, so what the stage already emitted still reaches the peer through later toxics (a latency
   * after limit-data delays the last bytes, it does not lose them), and the connection closes when that
   * end reaches the sink.
   */
  private requestClose(from: Node): void {
    if (this.closed || this.closeRequested) return;
    this.closeRequested = true;
    if (this.ended) this.owner.close();
    else if (!from.endSent) this.deliverEnd(from);
    // Otherwise the end is already on its way down the chain and closes the connection on arrival.
  }

  private drop(node: Node, bytes: number): void {
    this.hold(node, -bytes);
    this.counters.bytesDropped += bytes;
    this.updateFlow();
  }

  private charge(node: Node, bytes: number): void {
    this.hold(node, bytes);
    this.updateFlow();
  }

  /** Writes to the sink; writes from toxics are counted until the socket has taken them. */
  private toSink(chunk: Buffer, fromStage = false): void {
    if (this.closed || this.ended) return;
    if (this.beforeFirstWrite !== undefined) this.beforeFirstWrite();
    this.counters.bytesOut += chunk.length;
    let accepted: boolean;
    if (fromStage) {
      this.pendingSinkWrites++;
      accepted = this.sink.write(chunk, this.onSinkWritten);
    } else accepted = this.sink.write(chunk);
    if (!accepted) {
      this.waitingForDrain = true;
      this.updateFlow();
    }
  }

  private readonly onSinkWritten = (): void => {
    this.pendingSinkWrites--;
    if (this.waitingNodes > 0) this.updateFlow();
  };

  /** Whether what follows `node` cannot take more; with `relieved`, whether it has room again (hysteresis). */
  private congestedAfter(node: Node, relieved = false): boolean {
    const next = nextLive(node);
    if (next === undefined) {
      const pendingLimit = relieved ? maxPendingSinkWrites / 2 : maxPendingSinkWrites;
      return this.waitingForDrain || this.pendingSinkWrites >= pendingLimit;
    }
    let heldAfter = 0;
    for (let later: Node | undefined = next; later; later = later.next) heldAfter += later.heldBytes;
    return heldAfter > (relieved ? this.budgetBytes / 2 : this.budgetBytes);
  }

  /** Resumes the stages that waited for room after them, once there is. */
  private wake(): void {
    for (let node = this.head; node && this.waitingNodes > 0; node = node.next) {
      if (!node.waiting || this.congestedAfter(node, true)) continue;
      node.waiting = false;
      this.waitingNodes--;
      node.stage.resume?.();
    }
  }

  private endSink(): void {
    if (this.ended || this.closed) return;
    if (this.beforeFirstWrite !== undefined) this.beforeFirstWrite();
    this.ended = true;
    if (this.closeRequested) this.owner.close();
    else this.sink.end();
    this.onSinkEnded?.();
  }

  /**
   * Pauses the source above the budget or while the sink drains; resumes below half the budget. Then
   * resumes the stages waiting for room, if there is room now.
   */
  private updateFlow(): void {
    if (this.closed) return;
    const shouldPause = this.waitingForDrain || this.heldBytes > this.budgetBytes;
    if (shouldPause && !this.paused) {
      this.paused = true;
      this.source.pause();
    } else if (this.paused && !this.waitingForDrain && this.heldBytes <= this.budgetBytes / 2) {
      this.paused = false;
      this.source.resume();
    }
    if (this.waitingNodes > 0) this.wake();
  }

  private stageContext(node: Node, random: Random): StageContext {
    const owner = this.owner;
    return {
      clock: owner.clock,
      random,
      direction: this.direction,
      acceptedAt: owner.acceptedAt,
      emit: (chunk) => this.deliver(node, chunk),
      end: () => this.deliverEnd(node),
      drop: (bytes) => this.drop(node, bytes),
      charge: (bytes) => this.charge(node, bytes),
      // Being told to wait enrols the stage for a resume() when there is room.
      mustWait: () => {
        const congested = !this.closed && this.congestedAfter(node);
        if (congested && !node.waiting) {
          node.waiting = true;
          this.waitingNodes++;
        }
        return congested;
      },
      close: () => this.requestClose(node),
      reset: () => owner.reset(),
    };
  }
}

/** The first stage after `node` that has not been removed, or undefined for the sink. */
function nextLive(node: Node): Node | undefined {
  let next = node.next;
  while (next?.removed) next = next.next;
  return next;
}
