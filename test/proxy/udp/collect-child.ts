// Run by io.test.ts with --expose-gc: opens, starts receiving on, and closes many batched sockets,
// then reports how many the garbage collector took back and how many sockets remain open.
import { readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchSocket } from '../../../src/proxy/udp/batch-socket.js';

const count = 2000;
let collected = 0;
const registry = new FinalizationRegistry(() => collected++);
/** Open sockets of this process (other descriptors Node may open lazily do not count). */
const descriptors = (): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // the directory's own descriptor, gone by now
    }
  }).length;
const before = descriptors();

function openAndClose(i: number): void {
  const socket = BatchSocket.open({ type: 'udp4', host: '127.0.0.1', port: 0, field: 'test' });
  socket.onMessage(() => {});
  registry.register(socket, i);
  void socket.close();
}

for (let i = 0; i < count; i++) openAndClose(i);
const gc = (globalThis as { gc?: () => void }).gc as () => void;
for (let round = 0; round < 50 && collected < count; round++) {
  gc();
  await sleep(20);
}
process.stdout.write(`${JSON.stringify({ count, collected, descriptorsLeft: descriptors() - before })}\n`);
