import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codes } from '../../core/codes.js';
import { FaultlineError, messageOf } from '../../core/errors.js';
import {
  bindError,
  connectError,
  type DatagramSocket,
  type Destination,
  type MessageHandler,
  type OpenOptions,
} from './datagram-socket.js';

/** The native addon (native/udp_batch.c): prebuilt in prebuilds/, or built by node-gyp into build/Release. */
interface NativeUdp {
  readonly batch: number;
  readonly metaWords: number;
  open(family: 4 | 6, host: string, port: number, recvBufferBytes: number, sendBufferBytes: number): Handle;
  connect(handle: Handle, host: string, port: number): void;
  local(handle: Handle): [port: number, family: number, w0: number, w1: number, w2: number, w3: number];
  format(family: number, w0: number, w1: number, w2: number, w3: number): string;
  receive(handle: Handle, callback: (data: Buffer, count: number) => void): void;
  send(handle: Handle, datagrams: Buffer[], count: number, destinations: Buffer[] | null): number;
  address(host: string, port: number): Buffer;
  close(handle: Handle): void;
  setMeta(meta: Uint32Array): void;
}
type Handle = { readonly __nativeUdpHandle: unique symbol };

let loaded: { native: NativeUdp; meta: Uint32Array } | undefined;
let loadFailure: string | undefined;

/** The package root (from dist/src/proxy/udp/), where node-gyp-build finds prebuilds/ and build/. */
const packageRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The command that compiles the addon where this copy of faultline is: a consumer's or this repository. */
const rebuildCommand = packageRoot.split(sep).includes('node_modules')
  ? 'npm rebuild faultline --foreground-scripts'
  : 'npm run build:native';

function load(): typeof loaded {
  if (loaded !== undefined || loadFailure !== undefined) return loaded;
  if (process.platform !== 'linux') {
    loadFailure = `batched UDP I/O needs Linux (recvmmsg/sendmmsg); this is ${process.platform}`;
    return undefined;
  }
  const require = createRequire(import.meta.url);
  try {
    // node-gyp-build picks build/Release when there is a build, else the prebuild for this platform,
    // architecture and C library (N-API, so any Node version).
    const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    const native = require(nodeGypBuild.resolve(packageRoot)) as NativeUdp;
    const meta = new Uint32Array(native.batch * native.metaWords);
    native.setMeta(meta);
    loaded = { native, meta };
  } catch (error) {
    const why = messageOf(error).split('\n')[0]?.trim();
    loadFailure = `the native addon does not load (${why}); "${rebuildCommand}" compiles it (needs python3, make and a C compiler)`;
  }
  return loaded;
}

/** Why batched I/O is unavailable here, or undefined when it is available. */
export function batchUnavailableReason(): string | undefined {
  load();
  return loadFailure;
}

/** The addon, or FL_ERR_UNAVAILABLE saying why there is none. */
export function requireBatchIo(): NonNullable<typeof loaded> {
  const lib = load();
  if (lib === undefined) {
    throw new FaultlineError(codes.unavailable, `udp io "batch" is unavailable: ${loadFailure}`, {
      details: { field: 'io' },
    });
  }
  return lib;
}

/** A send queue longer than this (the kernel buffer stayed full) drops what comes next. */
const maxQueued = 8192;

/** Sockets with queued datagrams, flushed together once the current callback's work is done. */
const dirty = new Set<BatchSocket>();
let flushScheduled = false;

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  process.nextTick(flushAll);
}

function flushAll(): void {
  flushScheduled = false;
  for (const socket of dirty) if (socket.flush()) dirty.delete(socket);
  // A full kernel buffer: try again after the loop has polled (the receiver gets to drain it).
  if (dirty.size > 0 && !flushScheduled) {
    flushScheduled = true;
    setImmediate(flushAll);
  }
}

interface BatchDestination extends Destination {
  readonly address: Buffer;
}

/**
 * A DatagramSocket over the native addon: one readable event hands up to 64 datagrams to JavaScript in
 * one call (recvmmsg), and everything sent in one turn of the event loop leaves in one sendmmsg per
 * socket. Linux only; see `batchUnavailableReason`.
 */
export class BatchSocket implements DatagramSocket {
  readonly io = 'batch';
  readonly local: { readonly host: string; readonly port: number };
  private closed = false;
  private handler: MessageHandler | undefined;
  private receiving = false;
  private readonly queue: Buffer[] = [];
  private readonly destinations: Buffer[] = [];
  // The source of the datagram before (family and address words, as in the meta array) and its text:
  // consecutive datagrams mostly share it, so the text is made only when it changes.
  private readonly lastSource = new Uint32Array(5);
  private lastHost = '';

  private constructor(
    private readonly native: NativeUdp,
    private readonly meta: Uint32Array,
    private readonly handle: Handle,
    private readonly connected: boolean,
  ) {
    const [port, family, w0, w1, w2, w3] = native.local(handle);
    this.local = { host: native.format(family, w0, w1, w2, w3), port };
  }

  static open(options: OpenOptions): BatchSocket {
    const { native, meta } = requireBatchIo();
    const { type, host, port, field, recvBufferSize = 0, sendBufferSize = 0, connectTo } = options;
    let handle: Handle;
    try {
      handle = native.open(type === 'udp6' ? 6 : 4, host, port, recvBufferSize, sendBufferSize);
    } catch (error) {
      throw bindError(error, host, port, field);
    }
    if (connectTo !== undefined) {
      try {
        native.connect(handle, connectTo.host, connectTo.port);
      } catch (error) {
        native.close(handle);
        throw connectError(error, connectTo, field);
      }
    }
    return new BatchSocket(native, meta, handle, connectTo !== undefined);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
    if (this.receiving || this.closed) return;
    this.receiving = true;
    this.native.receive(this.handle, this.onBatch);
  }

  destination(host: string, port: number): BatchDestination {
    return { host, port, address: this.native.address(host, port) };
  }

  sendTo(data: Buffer, to: Destination): boolean {
    if (this.closed || this.queue.length >= maxQueued) return false;
    this.queue.push(data);
    this.destinations.push((to as BatchDestination).address);
    if (this.queue.length === 1) this.markDirty();
    return true;
  }

  send(data: Buffer): boolean {
    if (this.closed || this.queue.length >= maxQueued) return false;
    this.queue.push(data);
    if (this.queue.length === 1) this.markDirty();
    return true;
  }

  /** Sends what is queued; true when nothing is left. */
  flush(): boolean {
    const count = this.queue.length;
    if (this.closed || count === 0) return true;
    const taken = this.native.send(this.handle, this.queue, count, this.connected ? null : this.destinations);
    if (taken === count) {
      this.queue.length = 0;
      this.destinations.length = 0;
      return true;
    }
    this.queue.splice(0, taken);
    if (!this.connected) this.destinations.splice(0, taken);
    return false;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.flush(); // what was queued before close still leaves, as with node:dgram
      this.closed = true;
      this.handler = undefined;
      this.queue.length = 0;
      this.destinations.length = 0;
      dirty.delete(this);
      this.native.close(this.handle);
    }
    return Promise.resolve();
  }

  private markDirty(): void {
    dirty.add(this);
    scheduleFlush();
  }

  private readonly onBatch = (data: Buffer, count: number): void => {
    const meta = this.meta;
    const words = this.native.metaWords;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const handler = this.handler;
      if (handler === undefined) return; // closed by an earlier datagram's handler
      const m = i * words;
      const length = meta[m] as number;
      const source = this.lastSource;
      if (
        meta[m + 2] !== source[0] ||
        meta[m + 3] !== source[1] ||
        meta[m + 4] !== source[2] ||
        meta[m + 5] !== source[3] ||
        meta[m + 6] !== source[4]
      ) {
        source.set(meta.subarray(m + 2, m + 7));
        const [family, w0, w1, w2, w3] = source as unknown as [number, number, number, number, number];
        this.lastHost = this.native.format(family, w0, w1, w2, w3);
      }
      handler(data.subarray(offset, offset + length), this.lastHost, meta[m + 1] as number);
      offset += length;
    }
  };
}
