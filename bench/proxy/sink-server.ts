/**
 * The far end of the proxy benchmark, run as its own process (forked with an IPC channel by main.ts).
 * Three loopback listeners:
 *   - bulk: reads and discards everything; on the client's half-close it answers `<bytes>\n` and closes,
 *     so the client knows every byte arrived;
 *   - echo: writes back whatever it reads;
 *   - hold: accepts and keeps connections open, counting them (the idle-connection RSS phase).
 * Messages on the IPC channel: it sends `{ type: 'ready', ports }` once listening, answers
 * `{ type: 'count' }` with `{ type: 'count', held }`, and exits on `{ type: 'stop' }` or when the
 * parent goes away.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface SinkPorts {
  readonly bulk: number;
  readonly echo: number;
  readonly hold: number;
}

export type SinkRequest = { readonly type: 'count' } | { readonly type: 'stop' };
export type SinkMessage =
  | { readonly type: 'ready'; readonly ports: SinkPorts }
  | { readonly type: 'count'; readonly held: number };

const host = '127.0.0.1';
const sockets = new Set<Socket>();
let held = 0;

function track(socket: Socket): void {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
}

function bulk(socket: Socket): void {
  track(socket);
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  socket.on('end', () => socket.end(`${bytes}\n`));
}

function echo(socket: Socket): void {
  track(socket);
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => socket.write(chunk));
  socket.on('end', () => socket.end());
}

function hold(socket: Socket): void {
  track(socket);
  held++;
  socket.on('close', () => held--);
  socket.on('end', () => socket.end());
}

function listen(onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, onConnection);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}

function send(message: SinkMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (process.send === undefined) {
    console.error('sink-server.js must be started by bench/proxy/main.js with an IPC channel');
    process.exit(2);
  }
  const servers = await Promise.all([listen(bulk), listen(echo), listen(hold)]);
  const [bulkServer, echoServer, holdServer] = servers as [Server, Server, Server];
  const stop = (): void => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) server.close();
    process.disconnect?.();
    process.exit(0);
  };
  process.on('message', (message: SinkRequest) => {
    if (message.type === 'count') send({ type: 'count', held });
    else if (message.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  send({
    type: 'ready',
    ports: { bulk: portOf(bulkServer), echo: portOf(echoServer), hold: portOf(holdServer) },
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
