import type { Server } from 'node:net';
import { codes } from './codes.js';
import { FaultlineError, messageOf } from './errors.js';

/** `host` as URLs and `Host` headers write it: an IPv6 address in brackets (`[::1]`), others unchanged. */
export function bracketHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Formats an address the way Go and Toxiproxy print it: `host:port`, `[v6]:port`. Here rather than in
 * `proxy/address.ts` (which re-exports it, with the rest of the address helpers) because bind errors need it.
 */
export function hostPort(host: string, port: number): string {
  return `${bracketHost(host)}:${port}`;
}

/**
 * Turns a failed bind into a FaultlineError worded like Toxiproxy's (`listen tcp 127.0.0.1:8474: bind:
 * address already in use`), naming the field the address came from.
 */
export function listenError(
  error: unknown,
  protocol: 'tcp' | 'udp',
  host: string,
  port: number,
  field: string,
): FaultlineError {
  const where = hostPort(host, port);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new FaultlineError(
      codes.addressInUse,
      `listen ${protocol} ${where}: bind: address already in use`,
      {
        cause: error,
        details: { field },
      },
    );
  }
  return new FaultlineError(codes.listenFailed, `listen ${protocol} ${where}: ${messageOf(error)}`, {
    cause: error,
    details: { field },
  });
}

/** Starts `server` listening; rejects with `listenError` naming `field`. */
export function listenTcp(
  server: Server,
  host: string,
  port: number,
  field: string,
  backlog?: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(listenError(error, 'tcp', host, port, field));
    server.once('error', onError);
    server.listen({ host, port, ...(backlog === undefined ? {} : { backlog }) }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
