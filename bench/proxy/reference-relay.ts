/**
 * A bare Node.js TCP relay (`client.pipe(upstream)` both ways, no toxics, no accounting), run as its own
 * process like `faultline server`. It is the second baseline of the proxy benchmark: what any Node.js
 * proxy costs on this machine, so the cost of Node itself can be told apart from faultline's own.
 * Forked with an IPC channel: `{ type: 'relay', upstreamPort }` → `{ type: 'relay', port }`; exits on
 * `{ type: 'stop' }` or when the parent goes away.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type RelayRequest =
  | { readonly type: 'relay'; readonly upstreamPort: number }
  | { readonly type: 'stop' };
export type RelayMessage = { readonly type: 'ready' } | { readonly type: 'relay'; readonly port: number };

const host = '127.0.0.1';
const servers: Server[] = [];
const sockets = new Set<Socket>();

function track(socket: Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
}

function relay(upstreamPort: number): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host, port: upstreamPort, allowHalfOpen: true });
    track(client);
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, backlog: 4096 }, () => {
      const address = server.address();
      resolve(address !== null && typeof address === 'object' ? address.port : 0);
    });
  });
}

function send(message: RelayMessage): void {
  process.send?.(message);
}

if (process.send === undefined) {
  console.error('reference-relay.js must be started by bench/proxy/main.js with an IPC channel');
  process.exit(2);
}
const stop = (): void => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) server.close();
  process.disconnect?.();
  process.exit(0);
};
process.on('message', (message: RelayRequest) => {
  if (message.type === 'stop') stop();
  else relay(message.upstreamPort).then((port) => send({ type: 'relay', port }), stop);
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
send({ type: 'ready' });
