import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProxyHub } from '../../src/api/hub.js';
import {
  applyProxyConfig,
  maxConfigBytes,
  parseProxyConfig,
  readProxyConfig,
} from '../../src/cli/config-file.js';
import { FaultlineError } from '../../src/core/errors.js';
import { lineAndColumn } from '../../src/core/source.js';

/** Loads `text` as a config into a fresh hub (closed afterwards) and returns the error message. */
async function configError(text: string): Promise<FaultlineError> {
  const hub = new ProxyHub({ seed: 1 });
  try {
    await applyProxyConfig(hub, parseProxyConfig('conf.json', text));
  } catch (error) {
    assert.ok(error instanceof FaultlineError, String(error));
    assert.equal(error.code, 'FL_ERR_CONFIG');
    assert.deepEqual(await hub.proxies(), Object.create(null), 'nothing was created');
    return error;
  } finally {
    await hub.close();
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

/** The `line:column` of the first occurrence of `needle` in `text` (after `from`, if given). */
function at(text: string, needle: string, from?: string): string {
  const start = from === undefined ? 0 : text.indexOf(from);
  const offset = text.indexOf(needle, start);
  assert.ok(offset >= 0, needle);
  const { line, column } = lineAndColumn(text, offset);
  return `${line}:${column}`;
}

const up = '127.0.0.1:9';

test('regression: syntax errors V8 reports without a position get their exact line and column', async () => {
  // [text, where the error is: a needle and how far into it]
  const cases: Array<[string, string, number]> = [
    ['[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "x:1"},\n]\n', '\n]', 1], // trailing comma
    ['[\n  {"name": "a" "listen": "127.0.0.1:0"}\n]', '"listen"', 0],
    ['[\n  {"name": \'a\'}\n]', "'a'", 0],
    ['[\n  {"name": "a",\n   "listen": "127.0.0.1:0",,\n  }\n]', ',,', 1],
    ['[\n  {"enabled": tru}\n]', 'tru}', 0],
    ['[\n  {"toxicity": 01}\n]', '01', 0], // a malformed number is placed where it starts
    ['[\n  {"name": "a\\x"}\n]', '\\x', 0],
    ['[\n  {"name": "a\tb"}\n]', '\t', 0],
    ['[\n  {"name": "a"}\n', '', 0], // truncated: at the end
  ];
  for (const [text, needle, into] of cases) {
    const offset = needle === '' ? text.length : text.indexOf(needle) + into;
    const { line, column } = lineAndColumn(text, offset);
    const error = await configError(text);
    assert.match(
      error.message,
      new RegExp(`^conf\\.json:${line}:${column}: invalid JSON`),
      `${JSON.stringify(text)}: ${error.message}`,
    );
    assert.deepEqual([error.details.line, error.details.column], [line, column]);
    assert.doesNotMatch(error.message, /\n/); // one line: no stack trace
  }
  // An unterminated string is placed where it starts.
  const truncated = '[\n  {"name": "a", "listen": "127.0';
  assert.match(
    (await configError(truncated)).message,
    new RegExp(
      `^conf\\.json:${at(truncated, '"127.0')}: invalid JSON in proxies\\[0\\]\\.listen: unterminated string`,
    ),
  );
  assert.match(
    (await configError('')).message,
    /^conf\.json:1:1: invalid JSON: expected a value, got end of file$/,
  );
  assert.match(
    (await configError('[]]')).message,
    /^conf\.json:1:3: invalid JSON: expected the end of the file after the value, got "\]"$/,
  );
});

test('regression: non-object entries, entries without a name and bind failures point at the entry or field', async () => {
  const oops = `[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}"},\n  "oops"\n]`;
  assert.match(
    (await configError(oops)).message,
    new RegExp(`^conf\\.json:${at(oops, '"oops"')}: proxies\\[1\\]: expected an object`),
  );

  const nameless = `[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}"},\n  {"listen": "127.0.0.1:0", "upstream": "${up}"}\n]`;
  assert.match(
    (await configError(nameless)).message,
    /^conf\.json:3:3: proxies\[1\]\.name: missing required field: name at proxy 2$/,
  );

  const busy = createServer().listen(0, '127.0.0.1');
  await once(busy, 'listening');
  try {
    const port = (busy.address() as AddressInfo).port;
    const taken = `[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}"},\n  {"name": "b",\n   "listen": "127.0.0.1:${port}", "upstream": "${up}"}\n]`;
    const error = await configError(taken);
    assert.match(
      error.message,
      new RegExp(
        `^conf\\.json:${at(taken, `"127.0.0.1:${port}"`)}: proxies\\[1\\]\\.listen: listen tcp 127\\.0\\.0\\.1:${port}: bind: address already in use$`,
      ),
    );
    assert.equal(error.details.field, 'proxies[1].listen');
  } finally {
    busy.close();
  }
});

test('regression: an error in a proxy is placed at that proxy, even when a toxic earlier has its name', async () => {
  const text = `[
  {"name": "first", "listen": "127.0.0.1:0", "upstream": "${up}",
   "toxics": [{"name": "second", "type": "latency"}]},
  {"name": "second", "listen": "127.0.0.1:0", "upstream": "${up}",
   "toxics": [{"type": "latency", "toxicity": 2}]}
]`;
  const error = await configError(text);
  assert.match(
    error.message,
    new RegExp(
      `^conf\\.json:5:${at(text, '2}').split(':')[1]}: proxies\\[1\\]\\.toxics\\[0\\]\\.toxicity: expected a number >= 0 and <= 1, got 2$`,
    ),
  );
  const duplicate = `[
  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}", "toxics": [{"name": "b", "type": "noop"}]},
  {"name": "b", "listen": "127.0.0.1:0", "upstream": "${up}"},
  {"name": "b", "listen": "127.0.0.1:0", "upstream": "${up}"}
]`;
  assert.match(
    (await configError(duplicate)).message,
    /^conf\.json:4:12: proxies\[2\]\.name: duplicate proxy name "b"$/,
  );
});

test('regression: unknown keys are errors naming file:line:column, the field path and the valid keys', async () => {
  const text = `[
  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}", "ena}bled": false}
]`;
  const error = await configError(text);
  assert.equal(
    error.message,
    `conf.json:${at(text, '"ena}bled"')}: proxies[0].ena}bled: unknown key "ena}bled" in a proxy; valid keys: name, listen, upstream, enabled, toxics`,
  );
  assert.equal(error.details.field, 'proxies[0].ena}bled');
  const toxic = `[\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}",\n   "toxics": [{"type": "latency", "atributes": {}}]}\n]`;
  assert.match(
    (await configError(toxic)).message,
    new RegExp(
      `^conf\\.json:${at(toxic, '"atributes"')}: proxies\\[0\\]\\.toxics\\[0\\]\\.atributes: unknown key "atributes" in a toxic; valid keys: name, type, stream, toxicity, attributes$`,
    ),
  );
  const proto = `[{"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}", "__proto__": {"enabled": false}}]`;
  assert.match(
    (await configError(proto)).message,
    /^conf\.json:1:\d+: proxies\[0\]\.__proto__: unknown key "__proto__"/,
  );
  const attribute = `[{"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}",\n  "toxics": [{"type": "latency", "attributes": {"delay": 5}}]}]`;
  assert.match(
    (await configError(attribute)).message,
    new RegExp(
      `^conf\\.json:${at(attribute, '"delay"')}: proxies\\[0\\]\\.toxics\\[0\\]\\.attributes\\.delay: unknown attribute "delay"`,
    ),
  );
  const repeated = `[{"name": "a", "listen": "127.0.0.1:0",\n  "listen": "127.0.0.1:0", "upstream": "${up}"}]`;
  assert.match(
    (await configError(repeated)).message,
    /^conf\.json:2:3: proxies\[0\]\.listen: duplicate key "listen" \(first at line 1, column 16\)$/,
  );
});

test('a valid config keeps working: proxies, toxics, a byte-order mark, CRLF line ends', async () => {
  const hub = new ProxyHub({ seed: 1 });
  try {
    const text = `\uFEFF[\r\n  {"name": "a", "listen": "127.0.0.1:0", "upstream": "${up}", "enabled": false,\r\n   "toxics": [{"type": "latency", "attributes": {"latency": 5}}]}\r\n]\r\n`;
    const proxies = await applyProxyConfig(hub, parseProxyConfig('conf.json', text));
    assert.deepEqual(
      proxies.map((proxy) => [proxy.name, proxy.enabled, proxy.toxics.map((toxic) => toxic.name)]),
      [['a', false, ['latency_downstream']]],
    );
    const crlfError = `[\r\n  {"name": "a", "upstream": "${up}",\r\n   "listen": 5}]`;
    assert.match(
      (await configError(crlfError)).message,
      /^conf\.json:3:14: proxies\[0\]\.listen: expected "host:port"/,
    );
  } finally {
    await hub.close();
  }
});

test('the size limit holds for files without a size (a FIFO), not only regular files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tooBig = (error: unknown): boolean => {
    assert.ok(error instanceof FaultlineError, String(error));
    assert.equal(error.code, 'FL_ERR_CONFIG');
    assert.match(error.message, new RegExp(`cannot read config file: .*the limit is ${maxConfigBytes}`));
    return true;
  };

  // A regular file is refused by its size, before it is read (a sparse file costs no disk).
  const big = join(dir, 'big.json');
  await writeFile(big, '');
  await truncate(big, maxConfigBytes + 1);
  await assert.rejects(readProxyConfig(big), tooBig);

  if (process.platform === 'win32') return; // no mkfifo
  const fifo = join(dir, 'config.fifo');
  execFileSync('mkfifo', [fifo]);
  // Fed more than the limit (and more than a pipe holds), the reader stops after limit + 1 bytes;
  // the writer then sees EPIPE.
  const feed = async (data: Buffer, times: number): Promise<void> => {
    const writer = await open(fifo, 'w');
    try {
      for (let i = 0; i < times; i++) await writer.write(data);
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'EPIPE');
    } finally {
      await writer.close();
    }
  };
  const mib = Buffer.alloc(1024 * 1024, 0x20);
  const [refused] = await Promise.allSettled([
    readProxyConfig(fifo),
    feed(mib, Math.ceil(maxConfigBytes / mib.length) + 2),
  ]);
  assert.equal(refused.status, 'rejected');
  tooBig(refused.reason);

  // Within the limit, a FIFO is read like a file.
  const config = Buffer.from(`[{"name": "db", "listen": "127.0.0.1:0", "upstream": "${up}"}]`);
  const [read] = await Promise.all([readProxyConfig(fifo), feed(config, 1)]);
  assert.deepEqual(
    read.proxies.map((proxy) => proxy.name),
    ['db'],
  );
});
