import { BlockList, isIP } from 'node:net';
import { describe, invalid } from '../core/assert.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const expected = '"host:port", e.g. "127.0.0.1:6379", "localhost:0" or "[::1]:8080"';

/**
 * Parses `host:port`, `[v6]:port` or `:port` (Go's form for every interface). The host must be an IP
 * literal or a syntactically valid host name; nothing is looked up, so a bad address is refused at once
 * instead of failing later in a DNS lookup. A host whose last label is a number (`256.0.0.1`, `127.1`,
 * `0x7f.0.0.1`) is read as an IPv4 address, as URLs do, and must be a valid dotted quad.
 */
export function parseHostPort(text: unknown, field: string): HostPort {
  if (typeof text !== 'string') throw invalid(field, `expected ${expected}`, expected);
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535)
    throw invalid(field, `expected ${expected}, got ${JSON.stringify(text)}`, expected);
  if (match[1] !== undefined) {
    if (isIP(match[1]) !== 6) {
      throw invalid(field, `"[${match[1]}]" is not an IPv6 address, in ${JSON.stringify(text)}`, expected);
    }
    return { host: match[1], port };
  }
  const host = match[2] ?? '';
  if (host === '') return { host: '0.0.0.0', port };
  const problem = hostProblem(host);
  if (problem !== undefined) throw invalid(field, `${problem}, in ${JSON.stringify(text)}`, expected);
  return { host, port };
}

/** A host as a `Host` header names it: lower case, an IPv6 address in brackets; the port when given. */
export interface HostName {
  readonly name: string;
  readonly port?: number;
}

const hostNameExpected =
  'a host name or IPv4 address, with or without ":port" ("toxiproxy", "toxiproxy:8474", "10.0.0.5"), or an IPv6 address in brackets ("[::1]", "[::1]:8474")';

/**
 * Checks a host given in configuration (`allowedHosts`, `--allow-host`): `name`, `name:port`, `[v6]` or
 * `[v6]:port`, as a `Host` header carries it, so a bare IPv6 address (`::1`) is refused with the
 * bracketed form to use. Host names are compared without regard to case.
 */
export function parseHostName(text: unknown, field: string): HostName {
  if (typeof text !== 'string')
    throw invalid(field, `expected ${hostNameExpected}, got ${describe(text)}`, hostNameExpected);
  if (isIP(text) === 6) {
    throw invalid(
      field,
      `an IPv6 address goes in brackets: "[${text}]" (or "[${text}]:port", as in a Host header), got ${JSON.stringify(text)}`,
      hostNameExpected,
    );
  }
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(text);
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (match === null || (port !== undefined && (port < 1 || port > 65535))) {
    throw invalid(field, `expected ${hostNameExpected}, got ${JSON.stringify(text)}`, hostNameExpected);
  }
  let name: string;
  if (match[1] !== undefined) {
    if (isIP(match[1]) !== 6) {
      throw invalid(
        field,
        `"[${match[1]}]" is not an IPv6 address, in ${JSON.stringify(text)}`,
        hostNameExpected,
      );
    }
    name = `[${match[1].toLowerCase()}]`;
  } else {
    name = match[2] ?? '';
    const problem = name === '' ? 'no host name' : hostProblem(name);
    if (problem !== undefined)
      throw invalid(field, `${problem}, in ${JSON.stringify(text)}`, hostNameExpected);
    name = name.toLowerCase();
  }
  return port === undefined ? { name } : { name, port };
}

/** Why `host` is neither an IPv4 literal nor a valid host name (RFC 1123, `_` allowed), or undefined. */
function hostProblem(host: string): string | undefined {
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  const last = labels[labels.length - 1] ?? '';
  if (/^(?:\d+|0x[0-9a-f]*)$/i.test(last)) {
    return isIP(host) === 4 ? undefined : `${JSON.stringify(host)} is not a valid IPv4 address`;
  }
  if (host.length > 253) return `host name longer than 253 characters`;
  const label = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
  const bad = labels.find((part) => !label.test(part));
  if (bad !== undefined) {
    return `${JSON.stringify(host)} is not a valid host name (label ${JSON.stringify(bad)}: letters, digits, "-" and "_", 1 to 63 characters)`;
  }
  return undefined;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Whether `host` (as parsed by `parseHostPort`) is a loopback address: 127.0.0.0/8, ::1 or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === 'localhost' || lower === 'localhost.') return true;
  const family = isIP(lower);
  if (family === 0) return false;
  try {
    return loopback.check(lower, family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false; // an address BlockList cannot read (a zone index): not loopback
  }
}

/** The wildcard addresses a server listens on to take every interface: `0.0.0.0`, `::` and `` (`:port`). */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** The names a `Host` header gives this machine by: `localhost`, `127.0.0.1`, `[::1]`. */
export const loopbackHostNames: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * The name and port of a `Host` header (`name`, `name:port`, `[v6]`, `[v6]:port`), lower case, or
 * undefined when it is none of these. Lenient where `parseHostName` is strict: it reads what a client
 * sent, to compare it with names already checked.
 */
export function parseHostHeader(text: string): HostName | undefined {
  const match = /^(\[[0-9a-f:.%a-z]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(text.toLowerCase());
  if (match === null) return undefined;
  const name = match[1] as string;
  return match[2] === undefined ? { name } : { name, port: Number(match[2]) };
}

/** `[v6]` without its brackets; other hosts unchanged. */
export function unbracketHost(name: string): string {
  return name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
}

/** `host:port`, bracketing IPv6 hosts; and the host alone, bracketed. */
export { bracketHost, hostPort as formatHostPort } from '../core/listen.js';
