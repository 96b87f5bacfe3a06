// Run by fd-limit.test.ts under a low open-file limit:
//   node fd-limit-child.js <io> <upstream-port> <free-fds> [<upstream impairments as JSON>]
// Started through forkWithIpc (test/support/children.ts). Starts a UdpProxy, then opens /dev/null until
// the process is out of descriptors (EMFILE) and closes <free-fds> of them again, so exactly that many
// sockets can still be opened. Sends one message when ready, then answers each IPC message with one:
// "report" (counters, sessions, last session error), "release" (closes every filler descriptor), "stop".
// Exits when the IPC channel closes, so it never outlives the test.
import { closeSync, openSync } from 'node:fs';
import { Random } from '../../../src/core/random.js';
import { type UdpImpairments, UdpProxy } from '../../../src/proxy/udp/udp-proxy.js';

const [io, upstreamPort, freeText, impairments] = process.argv.slice(2);
if ((io !== 'batch' && io !== 'dgram') || upstreamPort === undefined || freeText === undefined) {
  process.stderr.write('usage: fd-limit-child.js batch|dgram <upstream-port> <free-fds> [<impairments>]\n');
  process.exit(2);
}
const proxy = new UdpProxy({
  name: 'fd-limit',
  listen: '127.0.0.1:0',
  upstream: `127.0.0.1:${upstreamPort}`,
  random: new Random(1),
  io,
});
if (impairments !== undefined) proxy.impair('upstream', JSON.parse(impairments) as UdpImpairments);
await proxy.start();

export type FdLimitRequest = { type: 'report' } | { type: 'release' } | { type: 'stop' };

const print = (value: unknown): void => {
  process.send?.(value);
};
const stop = (): void => {
  proxy.stop().finally(() => process.exit(0));
};
// Everything that opens a descriptor lazily (the signal pipe) is set up before filling.
process.on('SIGTERM', stop);
process.on('disconnect', stop);

const fillers: number[] = [];
/** Bounded: the test runs this under `ulimit -n` of a few hundred. */
const maxFillers = 100_000;
for (;;) {
  try {
    fillers.push(openSync('/dev/null', 'r'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EMFILE') throw error;
    break;
  }
  if (fillers.length >= maxFillers) throw new Error(`still no EMFILE after ${maxFillers} descriptors`);
}
for (let i = 0; i < Number(freeText); i++) closeSync(fillers.pop() as number);

process.on('message', (request: FdLimitRequest) => {
  if (request.type === 'stop') stop();
  else if (request.type === 'report') {
    print({
      counters: proxy.counters(),
      queued: proxy.queued(),
      sessions: proxy.sessions().length,
      lastSessionError: proxy.lastSessionError ?? null,
    });
  } else if (request.type === 'release') {
    const released = fillers.length;
    for (const fd of fillers.splice(0)) closeSync(fd);
    print({ released });
  }
});
print({ port: proxy.port, io: proxy.io, filled: fillers.length });
