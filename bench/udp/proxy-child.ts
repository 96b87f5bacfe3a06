/**
 * The proxy of the UDP benchmark, run as a child process:
 *   node dist/bench/udp/proxy-child.js <upstream-port> [impairments-json]
 * Starts a UdpProxy on 127.0.0.1:0 with seed 1 (its io from FAULTLINE_UDP_IO), prints "port <n> io <io>"
 * and runs until SIGTERM or SIGINT.
 */
import { Random } from '../../src/core/random.js';
import { UdpProxy } from '../../src/proxy/udp/udp-proxy.js';

const [upstreamPort, impairments] = process.argv.slice(2);
const proxy = new UdpProxy({
  name: 'bench',
  listen: '127.0.0.1:0',
  upstream: `127.0.0.1:${upstreamPort}`,
  random: new Random(1),
});
await proxy.start();
if (impairments !== undefined) proxy.impair('upstream', JSON.parse(impairments) as unknown as object);
process.stdout.write(`port ${proxy.port} io ${proxy.io}\n`);
const stop = (): void => {
  proxy.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
