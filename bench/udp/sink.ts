/**
 * The sink of the UDP benchmark, run as a child process (fork, with IPC): counts the datagrams it
 * receives and reports the count when asked. Prints nothing; exits on "stop" or SIGTERM.
 */
import { createSocket } from 'node:dgram';

export type SinkRequest = { type: 'count' } | { type: 'stop' };
export type SinkMessage = { type: 'ready'; port: number } | { type: 'count'; count: number };

const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
let count = 0;
socket.on('message', () => {
  count++;
});
socket.bind(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: socket.address().port } satisfies SinkMessage);
});
let closed = false;
const stop = (): void => {
  if (!closed) socket.close();
  closed = true;
  if (process.connected) process.disconnect();
};
process.on('message', (message: SinkRequest) => {
  if (message.type === 'count') process.send?.({ type: 'count', count } satisfies SinkMessage);
  else stop();
});
process.on('SIGTERM', stop);
process.on('disconnect', stop);
