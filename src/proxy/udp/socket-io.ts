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
  const reason = batchUnavailableReason();
  if (reason === undefined) return 'batch';
  warnFallbackOnce(reason);
  return 'dgram';
}

/** The code of the warning that `auto` falls back to node:dgram (`process.on('warning')` sees it). */
export const dgramFallbackWarning = 'FL_WARN_UDP_DGRAM_FALLBACK';
let warned = false;

/** Says once per process, on stderr, that UDP proxies use node:dgram, and why. */
function warnFallbackOnce(reason: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(`faultline: UDP proxies use node:dgram (slower) instead of batched I/O: ${reason}`, {
    code: dgramFallbackWarning,
    detail: 'io: "dgram" (or FAULTLINE_UDP_IO=dgram) chooses node:dgram without this warning.',
  });
}

/** Why `auto` falls back to node:dgram on this machine, or undefined when batched I/O works. */
export { batchUnavailableReason };

export async function openSocket(io: 'batch' | 'dgram', options: OpenOptions): Promise<DatagramSocket> {
  return io === 'batch' ? BatchSocket.open(options) : DgramSocket.open(options);
}
