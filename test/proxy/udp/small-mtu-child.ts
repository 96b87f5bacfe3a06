// Run by io.test.ts inside a fresh network namespace whose loopback has a 1500-byte MTU: a batched
// proxy forwards runs of 2000-byte datagrams, which the kernel refuses to send as one GSO message
// (a segment would exceed the MTU), and then runs of 1000-byte ones. Prints what arrived as JSON.
import { createSocket } from 'node:dgram';
import { UdpProxy } from '../../../src/proxy/udp/udp-proxy.js';

const server = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
const arrived: number[] = [];
server.on('message', (data) =>
  arrived.push(data.length === 0 ? -1 : (data[0] as number) * 256 + (data[1] as number)),
);
const proxy = new UdpProxy({
  name: 'mtu',
  listen: '127.0.0.1:0',
  upstream: `127.0.0.1:${server.address().port}`,
  io: 'batch',
});
await proxy.start();
const client = createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
const total = 200;
for (let i = 0; i < total; i++) {
  const data = Buffer.alloc(i < total / 2 ? 2000 : 1000, 0x5a);
  data.writeUInt16BE(i, 0);
  client.send(data, proxy.port, '127.0.0.1');
}
const deadline = Date.now() + 10_000;
while (arrived.length < total && Date.now() < deadline)
  await new Promise((resolve) => setTimeout(resolve, 10));
process.stdout.write(`${JSON.stringify({ io: proxy.io, arrived, counters: proxy.counters().upstream })}\n`);
client.close();
server.close();
await proxy.stop();
