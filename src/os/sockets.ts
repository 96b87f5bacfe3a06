import { readFileSync } from 'node:fs';

/** A bound socket from /proc/net: TCP in LISTEN, or any bound UDP socket (UDP has no listen state). */
export interface BoundSocket {
  readonly protocol: 'tcp' | 'udp';
  /** "127.0.0.1:4567" or "[::1]:4567". */
  readonly address: string;
  readonly port: number;
  /** The socket's inode: an owner holds `socket:[inode]` among its /proc/<pid>/fd links. */
  readonly inode: number;
}

const tcpListen = '0A';

/** Decodes /proc/net's little-endian hex address ("0100007F:11D7") to "127.0.0.1:4567" / "[::1]:4567". */
function decodeAddress(hex: string): { address: string; port: number } {
  const [host = '', portHex = '0'] = hex.split(':');
  const port = Number.parseInt(portHex, 16);
  const bytes: number[] = [];
  // Each 32-bit word is in host (little-endian) order.
  for (let word = 0; word < host.length; word += 8) {
    const chunk = host.slice(word, word + 8);
    for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(chunk.slice(i, i + 2), 16));
  }
  if (bytes.length === 4) return { address: `${bytes.join('.')}:${port}`, port };
  const groups: string[] = [];
  for (let i = 0; i < bytes.length; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  const ip = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  return { address: `[${ip}]:${port}`, port };
}

/**
 * Listening TCP and bound UDP sockets of this network namespace (/proc/net/tcp, tcp6, udp, udp6). TIME_WAIT
 * and connected TCP sockets are not listening, so they are left out. Empty off Linux.
 */
export function listBoundSockets(procRoot = '/proc'): BoundSocket[] {
  const found: BoundSocket[] = [];
  for (const [file, protocol] of [
    ['tcp', 'tcp'],
    ['tcp6', 'tcp'],
    ['udp', 'udp'],
    ['udp6', 'udp'],
  ] as const) {
    let text: string;
    try {
      text = readFileSync(`${procRoot}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, state, inode] = [fields[1], fields[3], Number(fields[9])];
      if (local === undefined || !Number.isInteger(inode) || inode === 0) continue;
      if (protocol === 'tcp' && state !== tcpListen) continue;
      found.push({ protocol, ...decodeAddress(local), inode });
    }
  }
  return found;
}

/** The socket inodes among a process's descriptor links (`socket:[123]`). */
export function socketInodes(links: readonly string[]): Set<number> {
  const inodes = new Set<number>();
  for (const link of links) {
    const match = /^socket:\[(\d+)\]$/.exec(link);
    if (match !== null) inodes.add(Number(match[1]));
  }
  return inodes;
}
