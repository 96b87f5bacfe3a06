import { invalid } from '../../core/assert.js';
import { BatchSocket, batchUnavailableReason, requireBatchIo } from './batch-socket.js';
import type { DatagramSocket, OpenOptions, UdpIo } from './datagram-socket.js';
import { DgramSocket } from './dgram-socket.js';

const choices: readonly UdpIo[] = ['auto', 'batch', 'dgram'];

function requireIo(value: unknown, field: string): UdpIo {
  if (!(choices as readonly unknown[]).includes(value)) {
    const list = choices.join(', ');
    throw invalid(field, `expected one of ${list}, got ${JSON.stringify(value)}`, list);
  }
  return value as UdpIo;
}

/** Settles `io` (option, else FAULTLINE_UDP_IO, else auto) into the way sockets will be opened. */
export function chooseIo(requested: unknown): 'batch' | 'dgram' {
  const fromEnv = process.env.FAULTLINE_UDP_IO;
  const wanted =
    requested !== undefined
      ? requireIo(requested, 'io')
      : fromEnv !== undefined && fromEnv !== ''
        ? requireIo(fromEnv, 'FAULTLINE_UDP_IO')
        : 'auto';
  if (wanted === 'dgram') return 'dgram';
  if (wanted === 'batch') {
    requireBatchIo();
    return 'batch';
  }
  return batchUnavailableReason() === undefined ? 'batch' : 'dgram';
}

/** Why `auto` falls back to node:dgram on this machine, or undefined when batched I/O works. */
export { batchUnavailableReason };

export async function openSocket(io: 'batch' | 'dgram', options: OpenOptions): Promise<DatagramSocket> {
  return io === 'batch' ? BatchSocket.open(options) : DgramSocket.open(options);
}
