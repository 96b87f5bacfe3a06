import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { Random } from '../core/random.js';

/** Lowest port handed out: below it sit well-known and registered services. */
const lowestPort = 10_000;
/** Tries per port before falling back to one the kernel picks. */
const triesPerPort = 20;

/**
 * `count` distinct loopback ports free right now, for a target to bind a little later. They are drawn
 * below the kernel's ephemeral range (`ip_local_port_range`), where no outgoing connection or `listen(0)`
 * of another program can take them meanwhile — only an explicit bind to the same number could, which
 * the random draw makes unlikely. Each is checked by binding it, all held until every one is chosen.
 * Where that range leaves no room below it, the kernel picks (the old way: free when asked).
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const ephemeralLow = ephemeralRangeStart();
  const random = new Random(Random.freshSeed(), 'free-ports'); // not the run's seed: concurrent runs must differ
  const held: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      let server: Server | undefined;
      for (
        let attempt = 0;
        server === undefined && ephemeralLow - lowestPort > 1000 && attempt < triesPerPort;
        attempt++
      ) {
        server = await listenOn(lowestPort + random.int(ephemeralLow - lowestPort));
      }
      held.push(server ?? ((await listenOn(0)) as Server));
    }
    return held.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** The first port of the kernel's ephemeral range (Linux), or 32768 where it cannot be read. */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** A server listening on 127.0.0.1:`port`, or undefined if that port is taken. */
function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined)).listen(port, '127.0.0.1', () => resolve(server));
  });
}
