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
}

/**
 * One direction of one proxied connection: source socket → toxic stages → sink socket.
 * With no toxics, chunks go straight from source to sink. Buffering is bounded end to end: the pipe
 * stops reading its source while its toxics hold more than `budgetBytes` or the sink asks to drain.
 */
export class Pipe {
  private head: Node | undefined;
  private heldBytes = 0;
  private waitingForDrain = false;
  private paused = false;
  private ended = false;
  private closed = false;

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

  get toxicNames(): string[] {
    const names: string[] = [];
    for (let node = this.head; node; node = node.next) names.push(node.name);
    return names;
  }

  /** Appends a toxic at the end of the chain (Toxiproxy's order: oldest first). */
  add(name: string, kind: ToxicKind, attributes: Attributes, random: Random): void {
    const node: Node = { name, stage: undefined as unknown as ToxicStage, next: undefined, removed: false };
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
    if (this.head === node) this.head = node.next;
    else for (let prev = this.head; prev; prev = prev.next) if (prev.next === node) prev.next = node.next;
    node.stage.flush();
    node.removed = true;
    node.stage.dispose();
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
    this.heldBytes += chunk.length;
    this.head.stage.write(chunk);
    this.updateFlow();
  }

  private onEnd(): void {
    if (this.closed) return;
    if (this.head === undefined) this.endSink();
    else this.head.stage.end();
  }

  private deliver(from: Node, chunk: Buffer): void {
    let next = from.next;
    while (next?.removed) next = next.next;
    if (next === undefined) {
      this.heldBytes -= chunk.length;
      this.toSink(chunk);
      this.updateFlow();
    } else next.stage.write(chunk);
  }

  private deliverEnd(from: Node): void {
    let next = from.next;
    while (next?.removed) next = next.next;
    if (next === undefined) this.endSink();
    else next.stage.end();
  }

  private toSink(chunk: Buffer): void {
    if (this.closed || this.ended) return;
    this.counters.bytesOut += chunk.length;
    if (!this.sink.write(chunk)) {
      this.waitingForDrain = true;
      this.updateFlow();
    }
  }

  private endSink(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.sink.end();
  }

  /** Pauses the source above the budget or while the sink drains; resumes below half the budget. */
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
      drop: (bytes) => {
        this.heldBytes -= bytes;
        this.counters.bytesDropped += bytes;
        this.updateFlow();
      },
      close: () => owner.close(),
      reset: () => owner.reset(),
    };
  }
}
