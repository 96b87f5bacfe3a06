// Run with: npx tsc -p . && node dist/examples/udp-sync/demo.js
import { pathToFileURL } from 'node:url';
import { SyncClient } from './client.js';
import { encode, type State } from './protocol.js';
import { SyncServer } from './server.js';

/** Starts a server and a client on loopback, syncs a few changes, and returns the server's copy. */
export async function runDemo(log: (line: string) => void = console.log): Promise<State> {
  const server = new SyncServer();
  const { address, port } = await server.start({ host: '127.0.0.1', port: 0 });
  server.on('session', (s) => log(`server: new session ${s.id.slice(0, 8)}… from ${s.address}:${s.port}`));
  server.on('apply', (e) =>
    log(
      `server: v${e.baseSeq} → v${e.seq} set ${JSON.stringify(e.set)} del ${JSON.stringify(e.del)} ⇒ ${JSON.stringify(e.state)}`,
    ),
  );
  const client = new SyncClient();
  try {
    await client.connect({ host: address, port });
    log(`client: session ${client.session.slice(0, 8)}… → ${address}:${port}`);

    client.update({ title: 'notes', mode: 'normal' });
    client.set('cursor', { line: 1, column: 1 }); // same tick as the line above: one datagram carries both
    await client.whenSynced(2000);
    log(`client: v${client.seq} acknowledged`);

    client.set('cursor', { line: 3, column: 7 }); // only the cursor travels: a diff against v2
    await client.whenSynced(2000);
    client.delete('title');
    client.set('mode', 'insert');
    await client.whenSynced(2000);
    log(`client: v${client.seq} acknowledged`);

    const sample = encode({
      type: 'sync',
      session: client.session,
      packet: 7,
      seq: client.seq,
      baseSeq: 3,
      set: { mode: 'insert' },
      del: ['title'],
    });
    log(`a sync datagram on the wire (${sample.length} bytes): ${sample.toString('utf8')}`);

    const held = server.session(client.session)?.state ?? {};
    log(`client state: ${JSON.stringify(client.state)}`);
    log(`server state: ${JSON.stringify(held)}`);
    return held;
  } finally {
    await client.close();
    await server.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runDemo();
}
