/** Helpers shared by the udp-sync tests: waiting on conditions, and a raw socket for hand-made datagrams. */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { decode, encode, type Message } from './protocol.js';

/** Polls `condition` every `everyMs` until it holds; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 10,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (condition()) return performance.now() - started;
    if (performance.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A bare UDP socket that speaks the wire format, for driving the server with datagrams a real client would not send in that order. */
export class RawPeer {
  readonly received: Message[] = [];
  private constructor(
    private readonly socket: Socket,
    private readonly server: { address: string; port: number },
  ) {
    socket.on('message', (bytes) => {
      const decoded = decode(bytes);
      if (decoded.ok) this.received.push(decoded.message);
    });
  }

  static async open(server: { address: string; port: number }, localAddress = '127.0.0.1'): Promise<RawPeer> {
    const socket = createSocket('udp4');
    socket.bind(0, localAddress);
    await once(socket, 'listening');
    return new RawPeer(socket, server);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(message: Message): void {
    this.socket.send(encode(message), this.server.port, this.server.address);
  }

  sendBytes(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server.port, this.server.address);
  }

  /** Waits until `count` replies have arrived in total. */
  async replies(count: number, timeoutMs = 2000): Promise<Message[]> {
    await waitUntil(() => this.received.length >= count, timeoutMs, `${count} replies`);
    return this.received;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
