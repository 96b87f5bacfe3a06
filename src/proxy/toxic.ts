import type { Clock } from '../core/clock.js';
import type { NumberParam } from '../core/params.js';
import type { Random } from '../core/random.js';

/** upstream = client → server; downstream = server → client (Toxiproxy's names). */
export type Direction = 'upstream' | 'downstream';
export const directions: readonly Direction[] = ['upstream', 'downstream'];
/** Where a toxic applies; `both` is faultline's addition to Toxiproxy's two streams. */
export type ToxicStream = Direction | 'both';
export const toxicStreams: readonly ToxicStream[] = ['upstream', 'downstream', 'both'];

export type Attributes = Record<string, number>;

/** A toxic's attribute; its name (the key in `ToxicKind.attributes`) is camelCase, units last: `latencyMs`. */
export interface AttributeSpec {
  readonly default: number;
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  readonly unit: string;
  readonly description: string;
}

/** An attribute as a number parameter: min 0 unless given, its max and integer, unit, default and description. */
export function attributeParam(spec: AttributeSpec): NumberParam {
  return {
    type: 'number',
    min: spec.min ?? 0,
    ...(spec.max === undefined ? {} : { max: spec.max }),
    ...(spec.integer ? { integer: true } : {}),
    unit: spec.unit,
    default: spec.default,
    description: spec.description,
  };
}

/** What a stage may do to its connection. Everything a toxic does goes through here. */
export interface StageContext {
  readonly clock: Clock;
  /** This toxic's own stream on this connection and direction. */
  readonly random: Random;
  readonly direction: Direction;
  /** When the connection was accepted, on `clock`. */
  readonly acceptedAt: number;
  /** Passes a chunk to the next toxic (or the socket). */
  emit(chunk: Buffer): void;
  /** Passes the half-close on. Call it after the last held chunk. */
  end(): void;
  /** Accounts for bytes the stage discarded instead of emitting. */
  drop(bytes: number): void;
  /**
   * Counts memory the stage holds besides the bytes written to it (bookkeeping per held item) against
   * the connection's budget, or gives it back when negative. `ReleaseQueue` does this for its items.
   */
  charge(bytes: number): void;
  /**
   * Whether the stage must stop emitting for now because what follows cannot take more: the socket's
   * buffer is full, or the toxics after this one hold more than the budget. When it answers true, the
   * pipe calls the stage's `resume()` once there is room. (`ReleaseQueue` asks before each release.)
   */
  mustWait(): boolean;
  /**
   * Closes the whole connection with FIN on both sides. Like Toxiproxy, this is an end of stream that
   * travels down the rest of the chain: what this stage already emitted still reaches the peer through
   * later toxics, then the connection closes. Anything the stage emits afterwards is dropped.
   */
  close(): void;
  /** Closes the whole connection with RST on both sides. */
  reset(): void;
}

/** One toxic on one direction of one connection. */
export interface ToxicStage {
  write(chunk: Buffer): void;
  /** The source half-closed. Stages that hold data must pass the end on after it. */
  end(): void;
  /** New attribute values, effective at once. */
  update(attributes: Attributes): void;
  /** The toxic was removed: emit everything held, in order, now. */
  flush(): void;
  /** After `context.mustWait()` answered true: there is room again, carry on emitting what is due. */
  resume?(): void;
  /** Stop every timer; the stage is never called again. */
  dispose(): void;
}

/**
 * A kind of toxic: its name, attributes and how to build a stage. One file each under toxics/. The name is
 * kebab-case (`slow-close`; its fault kind is `tcp.slow-close`), attribute names camelCase, units last.
 */
export interface ToxicKind {
  readonly name: string;
  readonly summary: string;
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  /** Streams this toxic may be put on; default: all. */
  readonly streams?: readonly ToxicStream[];
  /** For toxics that delay opening the upstream connection (slow-open): how long, for new connections. */
  openDelayMs?(attributes: Attributes): number;
  create(context: StageContext, attributes: Attributes): ToxicStage;
}

/** A toxic as configured on a proxy. (api/ maps it to and from Toxiproxy's JSON shape.) */
export interface ToxicConfig {
  /** Unique on the proxy. */
  readonly name: string;
  /** The toxic kind's name: `latency`, `slow-close` … */
  readonly kind: string;
  readonly stream: ToxicStream;
  /** Share of connections the toxic acts on, 0..1. */
  readonly toxicityProbability: number;
  /** Every attribute of the kind, by its typed name (`latencyMs`). */
  readonly attributes: Attributes;
}

/** A stage that passes everything through; base for toxics that only watch or act on the side. */
export class PassThroughStage implements ToxicStage {
  constructor(protected readonly context: StageContext) {}
  write(chunk: Buffer): void {
    this.context.emit(chunk);
  }
  end(): void {
    this.context.end();
  }
  update(_attributes: Attributes): void {}
  flush(): void {}
  dispose(): void {}
}

/**
 * Every TcpProxy, so the toxic faults can recognise one without importing tcp-proxy.ts (which imports
 * them through the toxic registry: a cycle that bundlers such as Vite's SSR loader cannot evaluate).
 */
export const tcpProxies = new WeakSet<object>();
