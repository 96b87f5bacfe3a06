/** The load clients of the proxy benchmark; they run in the benchmark process itself. */
import { connect, type Socket } from 'node:net';

const host = '127.0.0.1';
/** Sockets still open, so an interrupted run can close them. */
const open = new Set<Socket>();

function opened(socket: Socket): Socket {
  open.add(socket);
  socket.once('close', () => open.delete(socket));
  return socket;
}

export function destroyAllSockets(): void {
  for (const socket of open) socket.destroy();
  open.clear();
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

export interface BulkResult {
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * Sends `bytes` to the bulk sink at `port` in 64 KiB writes (respecting backpressure), half-closes, and
 * waits for the sink's byte count. Time runs from the established connection to that answer.
 */
export function bulkTransfer(port: number, bytes: number, timeoutMs: number): Promise<BulkResult> {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  return new Promise((resolve, reject) => {
    const socket = opened(connect({ host, port }));
    let sent = 0;
    let answer = '';
    let start = 0n;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`bulk transfer to port ${port} timed out after ${timeoutMs} ms (${sent} bytes sent)`));
    }, timeoutMs);
    const pump = (): void => {
      while (sent < bytes) {
        const size = Math.min(chunk.length, bytes - sent);
        sent += size;
        if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    socket.once('connect', () => {
      start = nowNs();
      pump();
    });
    socket.on('data', (data: Buffer) => {
      answer += data.toString('latin1');
    });
    socket.once('end', () => {
      const seconds = Number(nowNs() - start) / 1e9;
      clearTimeout(timer);
      socket.destroy();
      const received = Number(answer.trim());
      if (received !== bytes)
        reject(new Error(`sink received ${answer.trim() || 'nothing'} of ${bytes} bytes`));
      else resolve({ bytes, seconds });
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * One connection to the echo server at `port` for round trips of `size`-byte messages, one at a time:
 * each message is sent once the previous one's echo has fully arrived.
 */
export class EchoClient {
  private readonly message: Buffer;
  private socket: Socket | undefined;
  private received = 0;
  private sentAt = 0n;
  private onEcho: ((rttUs: number) => void) | undefined;
  private failure: ((error: Error) => void) | undefined;

  constructor(
    private readonly port: number,
    private readonly size: number,
  ) {
    this.message = Buffer.alloc(size, 0x61);
  }

  connect(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = opened(connect({ host, port: this.port }));
      this.socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(
        () => reject(new Error(`echo connect to port ${this.port} timed out`)),
        timeoutMs,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.on('data', (data: Buffer) => this.onData(data));
      socket.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
        this.failure?.(error);
      });
      socket.on('close', () => this.failure?.(new Error(`echo connection to port ${this.port} closed`)));
    });
  }

  /** `count` round trips; their times in µs. */
  run(count: number, timeoutMs: number): Promise<number[]> {
    const socket = this.socket;
    if (socket === undefined) return Promise.reject(new Error('EchoClient.run before connect'));
    const samples: number[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`echo to port ${this.port} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.onEcho = undefined;
        this.failure = undefined;
        if (error) reject(error);
        else resolve(samples);
      };
      this.failure = finish;
      this.onEcho = (rttUs) => {
        samples.push(rttUs);
        if (samples.length < count) this.send(socket);
        else finish();
      };
      this.send(socket);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private send(socket: Socket): void {
    this.received = 0;
    this.sentAt = nowNs();
    socket.write(this.message);
  }

  private onData(data: Buffer): void {
    this.received += data.length;
    if (this.received < this.size) return;
    const rttUs = Number(nowNs() - this.sentAt) / 1000;
    if (this.received > this.size) {
      this.failure?.(new Error(`echo returned ${this.received} bytes for a ${this.size}-byte message`));
      return;
    }
    this.onEcho?.(rttUs);
  }
}

/**
 * Opens `count` idle connections to `port` in batches of `batchSize`, spreading source addresses over
 * `sources`. After each batch's connections are established, `settled(total)` must confirm the far end
 * (through the proxy) holds them all before the next batch starts. The caller closes them with
 * `destroyAllSockets`.
 */
export async function openIdleConnections(
  port: number,
  count: number,
  batchSize: number,
  sources: readonly string[],
  settled: (total: number) => Promise<void>,
  progress: (total: number) => void,
): Promise<void> {
  let total = 0;
  while (total < count) {
    const size = Math.min(batchSize, count - total);
    const batch: Promise<void>[] = [];
    for (let i = 0; i < size; i++) {
      const localAddress = sources[(total + i) % sources.length] as string;
      batch.push(
        new Promise((resolve, reject) => {
          const socket = opened(connect({ host, port, localAddress }));
          socket.once('connect', () => {
            socket.off('error', reject);
            socket.on('error', () => {});
            resolve();
          });
          socket.once('error', reject);
        }),
      );
    }
    await Promise.all(batch);
    total += size;
    await settled(total);
    progress(total);
  }
}
