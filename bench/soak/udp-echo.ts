/**
 * The UDP server of the soak, run as a child process (fork, with IPC): sends every datagram back to
 * where it came from and counts what it received and sent. Answers `{ type: 'count' }`; exits on
 * `{ type: 'stop' }`, SIGTERM, or when the parent goes away.
 */
import { createSocket } from 'node:dgram';

export type UdpEchoRequest = { readonly type: 'count' } | { readonly type: 'stop' };
export type UdpEchoMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'count'; readonly received: number; readonly sent: number };

const bufferBytes = 8 * 1024 * 1024;
const socket = createSocket({ type: 'udp4', recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
let received = 0;
let sent = 0;
socket.on('error', () => {}); // a send to a vanished session socket costs that datagram only
socket.on('message', (data, from) => {
  received++;
  socket.send(data, from.port, from.address, (error) => {
    if (!error) sent++;
  });
});
let stopped = false;
const stop = (): void => {
  if (stopped) return;
  stopped = true;
  socket.close();
  if (process.connected) process.disconnect();
};
process.on('message', (message: UdpEchoRequest) => {
  if (message.type === 'count') process.send?.({ type: 'count', received, sent } satisfies UdpEchoMessage);
  else stop();
});
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
socket.bind(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: socket.address().port } satisfies UdpEchoMessage);
});
