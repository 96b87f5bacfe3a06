import { invalid } from '../../core/assert.js';
import { codes } from '../../core/codes.js';
import { FaultlineError } from '../../core/errors.js';
import { BatchSocket, batchUnavailableReason } from './batch-socket.js';
import type { DatagramSocket, OpenOptions, UdpIo } from './datagram-socket.js';
import { DgramSocket } from './dgram-socket.js';

const choices: readonly UdpIo[] = ['auto', 'batch', 'dgram'];

/** The default when a proxy names no `io`: FAULTLINE_UDP_IO if set, else `auto`. */
function defaultIo(): UdpIo {
  const value = process.env.FAULTLINE_UDP_IO;
  if (value === undefined || value === '') return 'auto';
  if (!(choices as readonly string[]).includes(value)) {
    throw invalid(
      'FAULTLINE_UDP_IO',
      `expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
      choices.join(', '),
    );
  }
  return value as UdpIo;
}

/** Settles `io` (option, else environment, else auto) into the way sockets will be opened. */
export function chooseIo(requested: unknown): 'batch' | 'dgram' {
  if (requested !== undefined && !(choices as readonly unknown[]).includes(requested)) {
    throw invalid(
      'io',
      `expected one of ${choices.join(', ')}, got ${JSON.stringify(requested)}`,
      choices.join(', '),
    );
  }
  const wanted = (requested as UdpIo | undefined) ?? defaultIo();
  if (wanted === 'dgram') return 'dgram';
  const reason = batchUnavailableReason();
  if (reason === undefined) return 'batch';
  if (wanted === 'batch') {
    throw new FaultlineError(codes.unavailable, `udp io "batch" is unavailable: ${reason}`, {
      details: { field: 'io' },
    });
  }
  return 'dgram';
}

/** Why `auto` falls back to node:dgram on this machine, or undefined when batched I/O works. */
export { batchUnavailableReason };

export async function openSocket(io: 'batch' | 'dgram', options: OpenOptions): Promise<DatagramSocket> {
  return io === 'batch' ? BatchSocket.open(options) : DgramSocket.open(options);
}
