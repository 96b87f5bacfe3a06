import { invalid } from '../core/assert.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port`, `[v6]:port` or `:port` (Go's form for every interface). */
export function parseHostPort(text: unknown, field: string): HostPort {
  const expected = '"host:port", e.g. "127.0.0.1:6379", "localhost:0" or "[::1]:8080"';
  if (typeof text !== 'string') throw invalid(field, `expected ${expected}`, expected);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535)
    throw invalid(field, `expected ${expected}, got ${JSON.stringify(text)}`, expected);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** `host:port`, bracketing IPv6 hosts. */
export { hostPort as formatHostPort } from '../core/listen.js';
