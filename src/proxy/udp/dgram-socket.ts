import { createSocket, type Socket } from 'node:dgram';
import {
  bindError,
  connectError,
  type DatagramSocket,
  type Destination,
  type MessageHandler,
  type OpenOptions,
} from './datagram-socket.js';

/**
 * Hostnames are resolved once at start, so every address a socket sees is an IP literal; answering
 * the lookup at once spares the `dns.lookup` round through the event loop on each send.
 */
export function literalLookup(
  address: string,
  _family: unknown,
  callback: (error: Error | null, address: string, family: number) => void,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

/** A DatagramSocket over node:dgram: one system call and one callback per datagram, on every platform. */
export class DgramSocket implements DatagramSocket {
  readonly io = 'dgram';
  readonly local: { readonly host: string; readonly port: number };
  private closed = false;

  private constructor(private readonly socket: Socket) {
    const address = socket.address();
    this.local = { host: address.address, port: address.port };
    // Send failures (a vanished client, ICMP errors on a connected socket) cost that datagram only.
    socket.on('error', () => {});
  }

  static async open(options: OpenOptions): Promise<DgramSocket> {
    const { type, host, port, field, recvBufferSize, sendBufferSize, connectTo } = options;
    const socket = createSocket({
      type,
      lookup: literalLookup,
      ...(recvBufferSize === undefined ? {} : { recvBufferSize }),
      ...(sendBufferSize === undefined ? {} : { sendBufferSize }),
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        try {
          socket.close();
        } catch {
          // already closed by the failed bind
        }
        reject(bindError(error, host, port, field));
      };
      socket.once('error', onError);
      socket.bind({ address: host, port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    if (connectTo !== undefined) {
      await new Promise<void>((resolve, reject) => {
        socket.connect(connectTo.port, connectTo.host, (error?: Error) => {
          if (error === undefined || error === null) return resolve();
          socket.close();
          reject(connectError(error, connectTo, field));
        });
      });
    }
    return new DgramSocket(socket);
  }

  onMessage(handler: MessageHandler): void {
    this.socket.removeAllListeners('message');
    this.socket.on('message', (data, info) => handler(data, info.address, info.port));
  }

  destination(host: string, port: number): Destination {
    return { host, port };
  }

  sendTo(data: Buffer, to: Destination): boolean {
    if (this.closed) return false;
    this.socket.send(data, to.port, to.host);
    return true;
  }

  send(data: Buffer): boolean {
    if (this.closed) return false;
    this.socket.send(data);
    return true;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.socket.removeAllListeners('message');
    return new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
