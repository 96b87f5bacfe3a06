// Ports for `${ports.NAME}`: free, distinct, and out of the kernel's ephemeral range, where another
// program's outgoing connection or listen(0) could take one before the target binds it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { it } from 'node:test';
import { freeLoopbackPorts } from '../../src/os/index.js';

it('gives distinct free loopback ports below the ephemeral range', async () => {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const ports = await freeLoopbackPorts(8);
  assert.equal(new Set(ports).size, 8, `distinct: ${ports}`);
  for (const port of ports) {
    assert.ok(port >= 10_000 && port < low, `${port} below ${low}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(port, '127.0.0.1', resolve),
    );
    await new Promise((resolve) => server.close(resolve));
  }
});
