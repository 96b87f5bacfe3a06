import { createSocket, type Socket } from 'node:dgram';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { literalLookup } from '../../src/proxy/udp/dgram-socket.js';

/** The load client: one socket that sends fixed-size datagrams as fast as it can, open loop. */
export class Blaster {
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
  }

  static async open(): Promise<Blaster> {
    const socket = createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024, lookup: literalLookup });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Blaster(socket);
  }

  /**
   * Sends `bytes`-byte datagrams to `port` for `ms`, `batch` at a time with a turn of the event loop
   * between batches (so libuv flushes its send queue); returns how many were sent and how long it took.
   */
  async run(port: number, ms: number, bytes: number, batch = 64): Promise<{ sent: number; seconds: number }> {
    const payload = Buffer.alloc(bytes, 0x61);
    const start = performance.now();
    let sent = 0;
    while (performance.now() - start < ms) {
      for (let i = 0; i < batch; i++) this.socket.send(payload, port, '127.0.0.1');
      sent += batch;
      await yieldLoop();
    }
    return { sent, seconds: (performance.now() - start) / 1000 };
  }

  close(): void {
    this.socket.close();
  }
}
