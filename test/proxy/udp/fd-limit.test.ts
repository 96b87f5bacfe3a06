// Regression: with RLIMIT_NOFILE nearly exhausted, a new session's upstream socket cannot be opened
// (EMFILE). Its datagrams used to be counted as forwarded and silently lost, and nothing said why. Now
// they are counted as dropped for that reason, the failed session is counted and not kept, the errno is
// reported, and the client's next datagram tries again. The proxy runs in a child process under a low
// `ulimit -n` that it then fills up, so exactly a few sockets can still be opened; clients and the echo
// server run here. Once per io, with no impairment and with a 5 ms delay (datagrams the delay holds
// reach the session after it failed, and count as `sessionDropped` too).
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { batchUnavailableReason } from '../../../src/proxy/udp/socket-io.js';
import type { UdpCounters, UdpImpairments, UdpSessionCounters } from '../../../src/proxy/udp/udp-proxy.js';
import { forkWithIpc } from '../../support/children.js';
import type { FdLimitRequest } from './fd-limit-child.js';
import { portOf, udpSocket, waitFor } from './helpers.js';

const childScript = fileURLToPath(new URL('./fd-limit-child.js', import.meta.url));
/** The child's open-file limit; it fills all but `free` of the descriptors left after start-up. */
const fdLimit = 256;
const free = 4;
const clientCount = 12;

interface Report {
  counters: { upstream: UdpCounters; downstream: UdpCounters; sessions: UdpSessionCounters };
  queued: { upstream: number; downstream: number };
  sessions: number;
  lastSessionError: { client: string; code: string; message: string } | null;
}

interface Ready {
  port: number;
  io: string;
  filled: number;
}

/** The proxy child under `ulimit -n`, over IPC; stopped after the test whatever happens. */
async function startChild(t: TestContext, io: string, upstreamPort: number, impairments: UdpImpairments) {
  const { child, ready } = await forkWithIpc<FdLimitRequest, Report, Ready>(
    childScript,
    [io, String(upstreamPort), String(free), JSON.stringify(impairments)],
    (message) => {
      const first = message as unknown as Ready;
      if (typeof first.port !== 'number')
        throw new Error(`expected the ready message, got ${JSON.stringify(first)}`);
      return first;
    },
    { what: 'the proxy child', stopRequest: { type: 'stop' }, beforeExec: `ulimit -n ${fdLimit}` },
  );
  t.after(() => child.stop());
  assert.equal(ready.io, io);
  assert.ok(ready.filled > 0, 'the child filled its descriptors');
  const ask = (type: 'report' | 'release') => child.ask({ type }, type, 10_000);
  return { port: ready.port, ask };
}

/** Asks for reports until the proxy has taken in `received` datagrams and holds none. */
async function settled(ask: (type: 'report') => Promise<Report>, received: number): Promise<Report> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const report = await ask('report');
    const up = report.counters.upstream;
    if (up.received === received && up.forwarded + up.dropped === up.received && report.queued.upstream === 0)
      return report;
    if (Date.now() > deadline)
      assert.fail(`the proxy did not settle at ${received} datagrams: ${JSON.stringify(report)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('UDP proxy: sessions under an open-file limit', () => {
  for (const [io, impairments] of [
    ['batch', {}],
    ['dgram', {}],
    ['batch', { delay: { ms: 5 } }],
    ['dgram', { delay: { ms: 5 } }],
  ] as const) {
    const named = Object.keys(impairments).length === 0 ? io : `${io}, ${JSON.stringify(impairments)}`;
    it(`${named}: counts sessions it cannot open and their datagrams as dropped, says why, and retries`, async (t) => {
      if (io === 'batch' && batchUnavailableReason() !== undefined)
        return t.skip(`batched I/O unavailable: ${batchUnavailableReason()}`);
      const server = await udpSocket(t);
      let serverReceived = 0;
      server.on('message', (data, from) => {
        serverReceived++;
        server.send(data, from.port, from.address);
      });
      const { port, ask } = await startChild(t, io, portOf(server), impairments);
      const clients: Socket[] = [];
      const replies: number[] = [];
      for (let i = 0; i < clientCount; i++) {
        const client = await udpSocket(t);
        const index = i;
        replies.push(0);
        client.on('message', () => {
          replies[index] = (replies[index] ?? 0) + 1;
        });
        clients.push(client);
      }
      let sent = 0;
      /** Sends one datagram from each client in `which`, one at a time: each is one attempt to open a session. */
      const sendFrom = async (which: readonly number[]): Promise<Report> => {
        for (const i of which) {
          (clients[i] as Socket).send(Buffer.from(`from ${i}`), port, '127.0.0.1');
          sent++;
          const deadline = Date.now() + 5000;
          while ((await ask('report')).counters.upstream.received < sent) {
            if (Date.now() > deadline) assert.fail(`the proxy never received client ${i}'s datagram`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
        return settled(ask, sent);
      };
      const all = clients.map((_, i) => i);

      // 1. Only `free` sessions can get a socket.
      let report = await sendFrom(all);
      let { upstream, sessions } = report.counters;
      await waitFor(() => serverReceived >= free, `${free} datagrams at the server`);
      assert.equal(upstream.forwarded, serverReceived, 'forwarded counts only what went out');
      assert.equal(upstream.dropped, clientCount - free);
      assert.equal(sessions?.opened, free, 'sessions opened');
      assert.equal(sessions.failed, clientCount - free, 'sessions that could not be opened');
      assert.equal(sessions.opened + sessions.failed, clientCount, 'opened + failed = attempted');
      assert.equal(report.sessions, free, 'failed sessions are not kept');
      assert.equal(upstream.sessionDropped, clientCount - free, 'dropped for want of a session socket');
      assert.ok(report.lastSessionError, 'the reason is reported');
      assert.equal(report.lastSessionError.code, 'EMFILE');
      assert.match(report.lastSessionError.message, /EMFILE|too many open files/i);
      await waitFor(() => replies.filter((n) => n > 0).length === free, `${free} clients answered`);
      const unanswered = all.filter((i) => replies[i] === 0);
      assert.equal(unanswered.length, clientCount - free);

      // 2. Still no descriptors: each later datagram of a failed client is a new attempt, and fails again.
      report = await sendFrom(unanswered);
      ({ upstream, sessions } = report.counters);
      assert.equal(sessions.opened, free);
      assert.equal(sessions.failed, 2 * unanswered.length, 'each later datagram tried again');
      assert.equal(upstream.sessionDropped, 2 * unanswered.length);
      assert.equal(upstream.forwarded, serverReceived);

      // 3. Descriptors free again: the next datagram of every client opens its session and is answered.
      await ask('release');
      report = await sendFrom(all);
      ({ upstream, sessions } = report.counters);
      assert.equal(sessions.opened, clientCount, 'every failed client got a session on its next datagram');
      assert.equal(sessions.failed, 2 * unanswered.length);
      assert.equal(report.sessions, clientCount);
      await waitFor(() => serverReceived === free + clientCount, 'every datagram of round 3 at the server');
      assert.equal(upstream.forwarded, serverReceived);
      assert.equal(upstream.forwarded + upstream.dropped, upstream.received);
      assert.equal(upstream.dropped, upstream.sessionDropped);
      await waitFor(() => replies.every((n) => n > 0), 'a reply for every client');
    });
  }
});
