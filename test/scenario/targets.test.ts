// A scenario's targets brought up for real — processes, TCP and UDP proxies, a network — in declaration
// order, `${…}` references resolved against the earlier ones, fault params turned into live objects, and
// everything taken down by the Ledger (or at once, when a later target fails to start).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: scenario references are written `${…}` in plain strings
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { realClock } from '../../src/core/clock.js';
import { codes } from '../../src/core/codes.js';
import { Ledger } from '../../src/core/ledger.js';
import { Random } from '../../src/core/random.js';
import { Network } from '../../src/net/index.js';
import { Target } from '../../src/process/index.js';
import { TcpProxy, UdpProxy } from '../../src/proxy/index.js';
import {
  LiveTargets,
  liveParams,
  resolveReferences,
  type Scenario,
  startTargets,
} from '../../src/scenario/index.js';
import { portNamesIn } from '../../src/scenario/references.js';
import { seenPids } from '../process/helpers.js';
import { freePort, tcpPortFree } from '../support/ports.js';

const fixtures = mkdtempSync(join(tmpdir(), 'faultline-targets-test-'));
// TCP and UDP echo on 127.0.0.1:PORT; writes "up" to FILE once both listen.
const echo = join(fixtures, 'echo.mjs');
writeFileSync(
  echo,
  `
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
const [port, file] = process.argv.slice(2);
const server = createServer((socket) => socket.pipe(socket));
const udp = createSocket('udp4');
udp.on('message', (message, from) => udp.send(message, from.port, from.address));
udp.bind(Number(port), '127.0.0.1', () =>
  server.listen(Number(port), '127.0.0.1', () => {
    if (file) writeFileSync(file, 'up');
    console.log('ready ' + port);
  }),
);
process.on('SIGTERM', () => process.exit(0));
`,
);
after(() => rmSync(fixtures, { recursive: true, force: true }));

async function udpFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Sends `text` over TCP to host:port and resolves with what comes back. */
async function tcpEcho(address: string, text: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  const socket = connect({ host, port: Number(port) });
  return new Promise((resolve, reject) => {
    let got = '';
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.write(text);
  });
}

async function udpEcho(port: number, text: string): Promise<string> {
  const socket = createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.once('message', (message) => resolve(message.toString()));
      socket.send(text, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

function options(ledger: Ledger, runDir: string, lines: string[] = []) {
  return {
    ledger,
    clock: realClock,
    random: new Random(7),
    runDir,
    log: (line: string) => lines.push(line),
    readyTimeoutMs: 3000,
    stopGraceMs: 1000,
  };
}

function runDirFor(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-run-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function track(live: LiveTargets): void {
  for (const name of live.names()) {
    const target = live.get(name);
    if (target.type === 'process') seenPids.add(target.object.pid);
  }
}

describe('startTargets', () => {
  it('brings a process, proxies and a network up in order; references resolve; data flows; the ledger takes all down', async () => {
    const port = await freePort();
    const runDir = runDirFor();
    const ledger = new Ledger();
    const lines: string[] = [];
    const targets: Scenario['targets'] = {
      web: {
        type: 'process',
        argv: [process.execPath, echo, String(port), '${run.dir}/web.up'],
        ready: { type: 'tcp', address: `127.0.0.1:${port}` },
        restart: 'never',
      },
      cache: { type: 'tcp-proxy', listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` },
      dns: { type: 'udp-proxy', listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` },
      net: {
        type: 'network',
        protocol: 'tcp',
        nodes: { a: { address: '${targets.cache.listen}' }, b: { address: `127.0.0.1:${port}` } },
        clients: ['c'],
      },
      // Reads earlier targets' values and is ready on a line of its own log.
      reporter: {
        type: 'process',
        argv: [
          process.execPath,
          '-e',
          'console.log("refs " + process.argv.slice(1).join(" ")); setInterval(() => {}, 1000)',
          '${targets.web.pid}',
          '${targets.cache.port}',
          '${targets.dns.listen}',
          '$${literal}',
        ],
        ready: { type: 'log', target: 'reporter', pattern: '^refs ' },
        restart: 'on-failure',
      },
    };
    const live = await startTargets(targets, options(ledger, runDir, lines));
    track(live);
    assert.deepEqual(live.names(), ['web', 'cache', 'dns', 'net', 'reporter']);
    assert.equal(lines.length, 5);
    assert.match(lines[1] as string, /^target cache \(tcp-proxy\) up on 127\.0\.0\.1:\d+ → /);

    const web = live.get('web', 'process').object;
    const cache = live.get('cache', 'tcp-proxy').object;
    const dns = live.get('dns', 'udp-proxy').object;
    const network = live.get('net', 'network').object;
    const reporter = live.get('reporter', 'process').object;
    assert.ok(web instanceof Target && cache instanceof TcpProxy && dns instanceof UdpProxy);
    assert.ok(network instanceof Network);
    assert.equal(readFileSync(join(runDir, 'web.up'), 'utf8'), 'up');
    assert.match(
      readFileSync(reporter.logFile('stdout'), 'utf8'),
      new RegExp(`^refs ${web.pid} ${cache.port} 127\\.0\\.0\\.1:${dns.port} \\$\\{literal\\}`),
    );

    // Data flows through each proxy, and through the network's link c → a → cache → web.
    assert.equal(await tcpEcho(cache.listen, 'hello'), 'hello');
    assert.equal(await udpEcho(dns.port, 'ping'), 'ping');
    assert.equal(await tcpEcho(network.address('c', 'a'), 'via net'), 'via net');

    // A fault's named targets become the live objects its factory needs, in lists too.
    const latency = liveParams('tcp.latency', { proxy: 'cache', latencyMs: 10 }, live);
    assert.equal(latency.proxy, cache);
    const cascade = liveParams('process.cascading-kill', { targets: ['reporter', 'web'] }, live);
    assert.deepEqual(cascade.targets, [reporter, web]);
    assert.equal(
      liveParams('net.partition', { network: 'net', groups: [['a'], ['b']] }, live).network,
      network,
    );
    assert.throws(
      () => liveParams('tcp.latency', { proxy: 'dns', latencyMs: 10 }, live, 'faults[0].params'),
      (error: Error & { code?: string }) =>
        error.code === codes.invalidArgument &&
        /^faults\[0\]\.params\.proxy: target "dns" is a udp-proxy, not a tcp-proxy/.test(error.message),
    );

    const logDir = dirname(web.logFile('stdout'));
    assert.ok(existsSync(logDir));
    await ledger.close();
    assert.equal(ledger.size, 0);
    assert.equal(web.alive(), false);
    assert.equal(reporter.alive(), false);
    assert.equal(await tcpPortFree(port), true, 'the process let its port go');
    assert.equal(await udpFree(port), true);
    assert.equal(await tcpPortFree(cache.port), true, 'the tcp proxy let its port go');
    assert.equal(await udpFree(dns.port), true, 'the udp proxy let its port go');
    assert.equal(existsSync(logDir), false, 'the supervisor removed its log dir');
  });

  it('a process that cannot start is an error naming the target, and the targets before it are taken down', async () => {
    const port = await freePort();
    const ledger = new Ledger();
    const targets: Scenario['targets'] = {
      web: {
        type: 'process',
        argv: [process.execPath, echo, String(port)],
        ready: { type: 'log', target: 'web', pattern: '^ready' },
        restart: 'always',
      },
      cache: { type: 'tcp-proxy', listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` },
      broken: { type: 'process', argv: ['/nonexistent/faultline-binary'], restart: 'never' },
    };
    let webPid = 0;
    await assert.rejects(
      startTargets(targets, {
        ...options(ledger, runDirFor()),
        log: (line) => {
          const pid = /pid (\d+)/.exec(line)?.[1];
          if (pid !== undefined) {
            webPid = Number(pid);
            seenPids.add(webPid);
          }
        },
      }),
      (error: Error & { code?: string; details?: { field?: string } }) => {
        assert.equal(error.code, codes.processFailed);
        assert.equal(error.details?.field, 'targets.broken.argv[0]');
        assert.match(error.message, /^targets\.broken\.argv\[0\]: cannot start target "broken": .*not found/);
        return true;
      },
    );
    assert.ok(webPid > 0);
    assert.equal(ledger.size, 0, 'every stop recorded was run');
    assert.throws(() => process.kill(webPid, 0), { code: 'ESRCH' });
    assert.equal(await tcpPortFree(port), true);
  });

  it('a ready probe that never passes, or a port in use, names the target and leaves nothing running', async () => {
    const port = await freePort();
    const dead = await freePort();
    const ledger = new Ledger();
    let webPid = 0;
    const log = (line: string): void => {
      const pid = /^target web .* pid (\d+)/.exec(line)?.[1];
      if (pid === undefined) return;
      webPid = Number(pid);
      seenPids.add(webPid);
    };
    await assert.rejects(
      startTargets(
        {
          web: { type: 'process', argv: [process.execPath, echo, String(port)], restart: 'never' },
          late: {
            type: 'process',
            argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
            ready: { type: 'tcp', address: `127.0.0.1:${dead}` },
            restart: 'never',
          },
        },
        { ...options(ledger, runDirFor()), readyTimeoutMs: 300, log },
      ),
      /^FaultlineError: targets\.late: target "late" never became ready/,
    );
    assert.ok(webPid > 0);
    assert.throws(() => process.kill(webPid, 0), { code: 'ESRCH' });
    assert.equal(ledger.size, 0);

    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const held = (holder.address() as { port: number }).port;
    try {
      await assert.rejects(
        startTargets(
          {
            first: { type: 'udp-proxy', listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}` },
            cache: { type: 'tcp-proxy', listen: `127.0.0.1:${held}`, upstream: `127.0.0.1:${port}` },
          },
          options(ledger, runDirFor()),
        ),
        (error: Error & { code?: string; details?: { field?: string } }) => {
          assert.equal(error.code, codes.addressInUse);
          assert.equal(error.details?.field, 'targets.cache.listen');
          assert.match(
            error.message,
            /^targets\.cache\.listen: listen tcp 127\.0\.0\.1:\d+: bind: address already in use/,
          );
          return true;
        },
      );
      assert.equal(ledger.size, 0, 'the udp proxy before it was stopped');
    } finally {
      holder.close();
    }
    await ledger.close();
  });

  it('stops when the signal aborts, taking down what it started', async () => {
    const ledger = new Ledger();
    const controller = new AbortController();
    const ports: number[] = [];
    await assert.rejects(
      startTargets(
        {
          one: { type: 'tcp-proxy', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
          two: { type: 'tcp-proxy', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
        },
        {
          ...options(ledger, runDirFor()),
          signal: controller.signal,
          log: (line) => {
            ports.push(Number(/:(\d+) →/.exec(line)?.[1]));
            controller.abort();
          },
        },
      ),
      (error: Error & { code?: string }) =>
        error.code === codes.aborted && /^targets\.two: aborted before it was started/.test(error.message),
    );
    assert.equal(ports.length, 1);
    assert.equal(await tcpPortFree(ports[0] as number), true);
    assert.equal(ledger.size, 0);
    await ledger.close();
  });

  it('refuses a reference to a later target, an unknown one, or an unset variable, naming the field', async () => {
    const ledger = new Ledger();
    await assert.rejects(
      startTargets(
        {
          first: { type: 'tcp-proxy', listen: '127.0.0.1:0', upstream: '${targets.second.listen}' },
          second: { type: 'tcp-proxy', listen: '127.0.0.1:0', upstream: '127.0.0.1:9' },
        },
        options(ledger, runDirFor()),
      ),
      (error: Error & { details?: { field?: string } }) => {
        assert.equal(error.details?.field, 'targets.first.upstream');
        assert.match(
          error.message,
          /^targets\.first\.upstream: \$\{targets\.second\.listen\}: .*declared later/,
        );
        return true;
      },
    );
    assert.equal(ledger.size, 0);

    const live = new LiveTargets('/run/x', ['a']);
    assert.deepEqual(
      resolveReferences({ argv: ['x', '${run.dir}/y'], n: 3, deep: { s: '$${run.dir}' } }, live, 'workload'),
      { argv: ['x', '/run/x/y'], n: 3, deep: { s: '${run.dir}' } },
    );
    process.env.FAULTLINE_TARGETS_TEST = 'set';
    assert.equal(resolveReferences('v=${env.FAULTLINE_TARGETS_TEST}', live, 'f'), 'v=set');
    assert.throws(
      () => resolveReferences(['ok', { url: 'http://${targets.nope.listen}/' }], live, 'probe'),
      /^FaultlineError: probe\[1\]\.url: \$\{targets\.nope\.listen\}: no target "nope"; started: none; available: run\.dir, env\.NAME/,
    );
    assert.throws(
      () => resolveReferences('${env.FAULTLINE_SURELY_UNSET_VARIABLE}', live, 'x'),
      /x: \$\{env\.FAULTLINE_SURELY_UNSET_VARIABLE\}: environment variable FAULTLINE_SURELY_UNSET_VARIABLE is not set/,
    );
    assert.throws(
      () => resolveReferences('${run.directory}', live, 'x'),
      /x: \$\{run\.directory\}: unknown reference/,
    );
    assert.throws(() => resolveReferences('a ${run.dir', live, 'x'), /x: unterminated reference/);
    // ${ports.NAME}: free loopback ports reserved before setup, one per name, the same at every use.
    assert.deepEqual(portNamesIn({ a: ['${ports.kv}', 'x${ ports.api }y'], b: '${ports.kv} $${ports.no}' }), [
      'kv',
      'api',
    ]);
    const withPorts = new LiveTargets('/run/x', [], new Map([['kv', 7400]]));
    assert.equal(resolveReferences('127.0.0.1:${ports.kv}', withPorts, 'u'), '127.0.0.1:7400');
    assert.throws(
      () => resolveReferences('${ports.db}', withPorts, 'u'),
      /u: \$\{ports\.db\}: no port db was reserved; available: run\.dir, env\.NAME, ports\.kv/,
    );
    await ledger.close();
  });
});
