// RealClock is immune to a test runner's fake timers (it took node:timers' functions and performance.now
// when it loaded): with Vitest's fake timers installed — every timer, Date, performance and hrtime; all
// but nextTick and queueMicrotask — a real TCP proxy with a 50 ms latency toxic still delivers, after
// ~50 ms of real time, while a timer set on the faked globals does not fire.
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { ProxyHub } from '../../src/public/index.js';

/** Real time, taken before any faking: how long things really took. */
const realNow = performance.now.bind(performance);
const latencyMs = 50;

const echo = createServer((socket) => socket.pipe(socket));
let hub: ProxyHub | undefined;
let client: Socket | undefined;

beforeAll(async () => {
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
});

afterEach(async () => {
  vi.useRealTimers();
  client?.destroy();
  await hub?.close();
});

afterAll(() => {
  echo.close();
});

test(`a latency toxic of ${latencyMs} ms delays real data by ${latencyMs} ms under vi.useFakeTimers()`, async () => {
  vi.useFakeTimers();
  expect(vi.isFakeTimers()).toBe(true);
  let fakeTimerFired = false;
  setTimeout(() => {
    fakeTimerFired = true;
  }, 1);
  const fakeStart = performance.now();

  hub = new ProxyHub({ seed: 1 });
  const upstream = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
  const state = await hub.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream });
  await hub.addToxic('echo', { type: 'latency', attributes: { latency: latencyMs } });
  const port = Number(state.listen.split(':').at(-1));

  const socket = connect(port, '127.0.0.1');
  client = socket;
  await once(socket, 'connect');
  const sent = realNow();
  socket.write('ping');
  const [reply] = (await once(socket, 'data')) as [Buffer];
  const tookMs = realNow() - sent;

  expect(reply.toString()).toBe('ping');
  expect(tookMs).toBeGreaterThanOrEqual(latencyMs - 1); // Node's timers may round down by under 1 ms
  expect(tookMs).toBeLessThan(latencyMs + 2_000);
  // The runner's fake timers were in force all along: its clock stood still, its timer never fired.
  expect(fakeTimerFired).toBe(false);
  expect(performance.now()).toBe(fakeStart);
});
