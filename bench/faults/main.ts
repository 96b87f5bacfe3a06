/**
 * Fault-path benchmark: `npm run bench:faults` (or `node dist/bench/faults/main.js [--connections n]`).
 *
 * What the Ledger costs: a toxic is injected and healed through the fault path (`tcp.latency(…).inject`,
 * then `heal()`), with 1,000 live proxied connections that each get the toxic at once, against the same
 * toxic added and removed on the proxy directly (the baseline, measured in the same run, interleaved).
 * The Ledger adds nothing per byte; this shows what it adds per inject and heal.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { realClock } from '../../src/core/clock.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { tcp } from '../../src/proxy/tcp-faults.js';
import { TcpProxy } from '../../src/proxy/tcp-proxy.js';
import { positiveInt } from '../../test/support/children.js';
import { median, quantile } from '../proxy/stats.js';

const { values: options } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '200' },
  },
});
const usage =
  'usage: node dist/bench/faults/main.js [--connections <n, default 1000>] [--rounds <n, default 200>]';
const connectionCount = positiveInt('connections', options.connections, 5000, usage);
const rounds = positiveInt('rounds', options.rounds, 100_000, usage);

const echo: Server = createServer((socket) => socket.pipe(socket));
echo.listen(0, '127.0.0.1');
await once(echo, 'listening');
const echoPort = (echo.address() as { port: number }).port;
const proxy = new TcpProxy({ name: 'bench', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echoPort}` });
await proxy.start();

const sockets: Socket[] = [];
try {
  process.stdout.write(`opening ${connectionCount} connections through the proxy… `);
  for (let i = 0; i < connectionCount; i += 100) {
    const batch = Array.from({ length: Math.min(100, connectionCount - i) }, async () => {
      const socket = connect({ host: '127.0.0.1', port: proxy.port });
      sockets.push(socket);
      await once(socket, 'connect');
      socket.write('x'); // a round trip proves the whole path (client → proxy → echo) is up
      await once(socket, 'data');
    });
    await Promise.all(batch);
  }
  console.log(`${proxy.stats.connectionsActive} live`);

  const ledger = new Ledger();
  const context = { ledger, clock: realClock, random: new Random(1) };
  const viaLedger: number[] = [];
  const direct: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    const injection = await tcp.latency({ proxy, latencyMs: 10 }).inject(context);
    await injection.heal();
    viaLedger.push(performance.now() - start);
    start = performance.now();
    proxy.addToxic({ name: 'latency-downstream', kind: 'latency', attributes: { latencyMs: 10 } });
    proxy.removeToxic('latency-downstream');
    direct.push(performance.now() - start);
  }
  const p95 = (values: readonly number[]): number => quantile(values, 0.95);
  const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;
  console.log(`inject + heal of a latency toxic, ${connectionCount} live connections, ${rounds} rounds:`);
  console.log(
    `  through the Ledger (tcp.latency().inject, heal): median ${fmt(median(viaLedger))}, p95 ${fmt(p95(viaLedger))}`,
  );
  console.log(
    `  directly on the proxy (add, remove; baseline):    median ${fmt(median(direct))}, p95 ${fmt(p95(direct))}`,
  );
  console.log(
    `  ratio (Ledger / direct, medians): ${(median(viaLedger) / median(direct)).toFixed(2)}×; target ≤ 10 ms`,
  );
  await ledger.close();
} finally {
  for (const socket of sockets) socket.destroy();
  await proxy.stop();
  echo.close();
}
