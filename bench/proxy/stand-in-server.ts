/**
 * TEMPORARY stand-in for `faultline server` while the CLI is being written: a ProxyHub behind the two
 * Toxiproxy API calls the benchmark uses (POST /proxies, POST /proxies/{name}/toxics), with the same
 * command line and ready line. Run with `--server dist/bench/proxy/stand-in-server.js`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ProxyHub, type ProxyInput, type ToxicInput } from '../../src/proxy/hub.js';

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

async function body(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function reply(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(value));
}

const host = flag('host', '127.0.0.1');
const port = Number(flag('port', '8474'));
const hub = new ProxyHub({ seed: Number(flag('seed', '1')) });

const server = createServer((request, response) => {
  const handle = async (): Promise<void> => {
    const url = request.url ?? '/';
    const toxics = /^\/proxies\/([^/]+)\/toxics$/.exec(url);
    if (request.method === 'POST' && url === '/proxies') {
      reply(response, 201, await hub.createProxy((await body(request)) as ProxyInput));
    } else if (request.method === 'POST' && toxics) {
      reply(response, 200, await hub.addToxic(decodeURIComponent(toxics[1] ?? ''), (await body(request)) as ToxicInput));
    } else if (request.method === 'GET' && url === '/version') {
      reply(response, 200, { version: await hub.version() });
    } else reply(response, 404, { error: 'not found' });
  };
  handle().catch((error: unknown) => reply(response, 400, { error: String(error) }));
});

server.listen(port, host, () => {
  const address = server.address();
  const real = address !== null && typeof address === 'object' ? address.port : port;
  console.log(`faultline stand-in listening on http://${host}:${real}`);
});

const stop = (): void => {
  server.close();
  hub.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
