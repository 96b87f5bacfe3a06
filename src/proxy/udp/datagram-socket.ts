import type { SocketType } from 'node:dgram';
import { codes } from '../../core/codes.js';
import { FaultlineError, messageOf } from '../../core/errors.js';
import { formatHostPort } from '../address.js';

/** A resolved address: an IP literal and the socket type that reaches it. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly type: SocketType;
}

/**
 * How a UDP proxy moves datagrams: `batch` reads and writes many per system call (recvmmsg/sendmmsg,
 * through faultline's native addon, Linux only); `dgram` uses node:dgram, one call per datagram;
 * `auto` takes `batch` when the addon is built, else `dgram`.
 */
export type UdpIo = 'auto' | 'batch' | 'dgram';

/**
 * Receives each datagram with its source. `data` may share memory with the other datagrams of its
 * receive batch (never reused, but kept alive by any one of them): copy what is held for long.
 */
export type MessageHandler = (data: Buffer, host: string, port: number) => void;

/** An address prepared once for sending to many times (a client of the listen socket). */
export interface Destination {
  readonly host: string;
  readonly port: number;
}

/** What the UDP proxy needs of a datagram socket, whichever way it does its I/O. */
export interface DatagramSocket {
  readonly io: 'batch' | 'dgram';
  /** Where it is bound: an IP literal and the real port. */
  readonly local: { readonly host: string; readonly port: number };
  /** Starts (or redirects) delivery of received datagrams. */
  onMessage(handler: MessageHandler): void;
  destination(host: string, port: number): Destination;
  /** Queues a datagram to `to`; false if it cannot be taken (the socket is closed or its queue full). */
  sendTo(data: Buffer, to: Destination): boolean;
  /** Queues a datagram to the connected peer; false as for sendTo. */
  send(data: Buffer): boolean;
  /** Stops delivery at once and closes the socket. */
  close(): Promise<void>;
}

export interface OpenOptions {
  type: SocketType;
  host: string;
  port: number;
  /** The caller's field the address came from, named in errors. */
  field: string;
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Connect to this peer: only its datagrams are received and `send` needs no address. */
  connectTo?: Endpoint;
}

/** A bind failure as faultline reports it: FL_ERR_ADDRESS_IN_USE or FL_ERR_LISTEN_FAILED, naming the field. */
export function bindError(error: unknown, host: string, port: number, field: string): FaultlineError {
  const where = formatHostPort(host, port);
  if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new FaultlineError(codes.addressInUse, `listen udp ${where}: bind: address already in use`, {
      cause: error,
      details: { field },
    });
  }
  return new FaultlineError(codes.listenFailed, `listen udp ${where}: ${messageOf(error)}`, {
    cause: error,
    details: { field },
  });
}

export function connectError(error: unknown, peer: Endpoint, field: string): FaultlineError {
  return new FaultlineError(
    codes.listenFailed,
    `connect udp ${formatHostPort(peer.host, peer.port)}: ${messageOf(error)}`,
    { cause: error, details: { field } },
  );
}
