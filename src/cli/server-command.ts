import { checkToken, ProxyHub, startApiServer } from '../api/index.js';
import { requireNumber } from '../core/assert.js';
import { FaultlineError, messageOf } from '../core/errors.js';
import { isLoopbackHost, parseHostName } from '../proxy/index.js';
import { applyProxyConfig, readProxyConfig } from './config-file.js';
import { parseCommandLine, usageError } from './usage.js';

export const serverUsage = `Usage: faultline server [options]

Runs a Toxiproxy-compatible HTTP API (Toxiproxy 2.x clients work unmodified).

Options:
  --host <addr>          address of the API (default 127.0.0.1; anything else exposes the API beyond
                         this machine: use --token)
  --port <port>          port of the API (default 8474)
  --config <file>        create proxies (and toxics) at start-up from a JSON file, Toxiproxy's --config
                         format; an error names file:line:column and the field
  --token <secret>       require "Authorization: Bearer <secret>" on every request (default: the
                         FAULTLINE_TOKEN environment variable, which unlike a flag is not shown by ps);
                         letters, digits and -._~+/ (RFC 6750), optionally ending in =
  --allow-host <host>    also answer to this Host header (repeatable): "name" with any port,
                         "name:port" only that port, "[v6]" or "[v6]:port" for an IPv6 address,
                         "*" any (turns off the DNS rebinding guard)
  --allow-remote-listen  let proxies listen beyond loopback (0.0.0.0, LAN addresses) and on
                         privileged ports (< 1024); refused by default
  --seed <n>             seed of every random draw (toxicity, jitter, …); default: FAULTLINE_SEED, else
                         a fresh one; printed
  --quiet                do not log each request
  -h, --help             show this help
`;

export async function serverCommand(argv: string[]): Promise<void> {
  const { values } = parseCommandLine(
    {
      args: argv,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8474' },
        config: { type: 'string' },
        token: { type: 'string' },
        'allow-host': { type: 'string', multiple: true },
        'allow-remote-listen': { type: 'boolean', default: false },
        seed: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    },
    serverUsage,
  );
  if (values.help) {
    process.stdout.write(serverUsage);
    return;
  }
  const port = usageNumber(values.port, '--port', { min: 0, max: 65535, integer: true });
  const seed =
    values.seed === undefined ? undefined : usageNumber(values.seed, '--seed', { min: 0, integer: true });
  const token = values.token ?? process.env.FAULTLINE_TOKEN;
  if (token !== undefined) {
    usageCheck(() => checkToken(token, values.token === undefined ? 'FAULTLINE_TOKEN' : '--token'));
  }
  const allowedHosts = values['allow-host'] ?? [];
  for (const entry of allowedHosts) {
    if (entry !== '*') usageCheck(() => parseHostName(entry, '--allow-host'));
  }
  const allowRemoteListen = values['allow-remote-listen'];
  const config = values.config === undefined ? undefined : await readProxyConfig(values.config);

  const hub = new ProxyHub({ allowRemoteListen, ...(seed === undefined ? {} : { seed }) });
  process.stdout.write(`faultline: seed ${hub.seed} (replay with --seed ${hub.seed})\n`);
  if (config) {
    try {
      const proxies = await applyProxyConfig(hub, config);
      for (const proxy of proxies) {
        process.stdout.write(`faultline: proxy ${proxy.name} ${proxy.listen} -> ${proxy.upstream}\n`);
      }
    } catch (error) {
      await hub.close();
      throw error;
    }
  }
  const log = values.quiet ? undefined : (line: string) => process.stdout.write(`${line}\n`);
  const api = await startApiServer({
    hub,
    host: values.host,
    port,
    ...(log ? { log } : {}),
    ...(token === undefined ? {} : { token }),
    allowedHosts,
  }).catch(async (error) => {
    await hub.close();
    throw error;
  });
  if (!isLoopbackHost(values.host)) {
    process.stderr.write(
      `faultline: warning: the API on ${values.host} is reachable from other machines${
        token === undefined
          ? ' and has no --token: anyone who reaches it can open ports and redirect traffic'
          : ''
      }\n`,
    );
  }
  if (allowRemoteListen) {
    process.stderr.write(
      'faultline: warning: --allow-remote-listen: proxies may listen beyond loopback and on privileged ports\n',
    );
  }
  process.stdout.write(
    `faultline: Toxiproxy-compatible API listening on ${api.url}${token === undefined ? '' : ' (token required)'}\n`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.write(`faultline: ${signal}: closing proxies\n`);
      void Promise.allSettled([api.close(), hub.close()]).then(() => resolve());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** Runs a check from the library; its refusal (which names the flag) becomes a usage error. */
function usageCheck(check: () => unknown): void {
  try {
    check();
  } catch (error) {
    throw usageError(messageOf(error), serverUsage);
  }
}

function usageNumber(
  text: string,
  flag: string,
  options: { min?: number; max?: number; integer?: boolean },
): number {
  try {
    return requireNumber(text.trim() === '' ? Number.NaN : Number(text), flag, options);
  } catch (error) {
    const expected = error instanceof FaultlineError ? error.details.expected : undefined;
    throw usageError(`${flag}: expected ${expected ?? 'a number'}, got ${JSON.stringify(text)}`, serverUsage);
  }
}
