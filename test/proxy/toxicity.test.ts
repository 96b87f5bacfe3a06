import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { connect, Received, startEchoServer, startHub, startProxy, within } from './helpers.js';

// limit_data with bytes 0 on the downstream stream makes "is the toxic on this connection?" quick to
// observe: the echo comes back when it is not, the connection closes with no data when it is.

/** Opens `count` connections one after another (so ids follow the order) and reports which were affected. */
async function affectedPattern(
  t: TestContext,
  seed: number,
  toxicity: number,
  count: number,
): Promise<boolean[]> {
  const echo = await startEchoServer(t);
  const hub = startHub(t, { seed });
  const proxy = await startProxy(hub, echo.port);
  await hub.addToxic('test', { type: 'limit_data', toxicity, attributes: { bytes: 0 } });
  const affected: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const client = new Received(await connect(t, proxy.port));
    client.socket.write('x');
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (client.bytes > 0 || client.closed) resolve();
          else setTimeout(check, 2);
        };
        check();
      }),
      10_000,
      `connection ${i} to echo or close`,
    );
    affected.push(client.bytes === 0);
    client.socket.destroy();
  }
  await hub.close();
  return affected;
}

test('toxicity 0 never applies, 1 always applies', async (t) => {
  assert.deepEqual(await affectedPattern(t, 5, 0, 15), Array(15).fill(false));
  assert.deepEqual(await affectedPattern(t, 5, 1, 15), Array(15).fill(true));
});

test('toxicity 0.5 applies to roughly half of the connections, the same ones for the same seed', async (t) => {
  const count = 60;
  const first = await affectedPattern(t, 1234, 0.5, count);
  const hits = first.filter(Boolean).length;
  // Binomial(60, 0.5): standard deviation ~3.9; ±15 is ~3.9 standard deviations.
  assert.ok(hits >= 15 && hits <= 45, `${hits} of ${count} connections affected`);
  const again = await affectedPattern(t, 1234, 0.5, count);
  assert.deepEqual(again, first, 'same seed and connection order, same draws');
  const other = await affectedPattern(t, 4321, 0.5, count);
  assert.notDeepEqual(other, first, 'a different seed gives a different pattern');
});

test('toxicity is drawn once per connection and kept across updates', async (t) => {
  const echo = await startEchoServer(t);
  const hub = startHub(t, { seed: 99 });
  const proxy = await startProxy(hub, echo.port);
  const clients = [];
  for (let i = 0; i < 20; i++) clients.push(new Received(await connect(t, proxy.port)));
  await hub.addToxic('test', { type: 'limit_data', toxicity: 0.5, attributes: { bytes: 0 } });
  // Raising the toxicity only adds connections whose draw is below the new value; lowering it to 0
  // takes the toxic off every connection, so all of them now echo.
  await hub.updateToxic('test', 'limit_data_downstream', { toxicity: 0 });
  for (const client of clients) client.socket.write('x');
  for (const client of clients) await client.waitForBytes(1);
  assert.ok(clients.every((client) => !client.closed));
});
