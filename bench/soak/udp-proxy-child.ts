/**
 * The UDP proxy under test in the soak, run as a child process (fork, with IPC) so its RSS and
 * descriptors are its own: node udp-proxy-child.js '<json UdpChildConfig>'. Sends `{ type: 'ready' }`
 * with its port and I/O, answers `{ type: 'report' }` with its counters, and exits on
 * `{ type: 'stop' }`, SIGTERM, or when the parent goes away.
 */
import { Random } from '../../src/core/random.js';
import {
  type UdpImpairments,
  type UdpIo,
  UdpProxy,
  type UdpProxyCounters,
} from '../../src/proxy/udp/udp-proxy.js';

export interface UdpChildConfig {
  readonly upstreamPort: number;
  readonly io: UdpIo;
  readonly seed: number;
  readonly sessionIdleMs: number;
  readonly upstream: UdpImpairments;
  readonly downstream: UdpImpairments;
}

export type UdpChildRequest = { readonly type: 'report' } | { readonly type: 'stop' };
export type UdpChildMessage =
  | { readonly type: 'ready'; readonly port: number; readonly io: string }
  | {
      readonly type: 'report';
      readonly counters: UdpProxyCounters;
      readonly queued: { readonly upstream: number; readonly downstream: number };
      readonly sessions: number;
      readonly lastSessionError: string | null;
    };

const config = JSON.parse(process.argv[2] ?? '{}') as UdpChildConfig;
const proxy = new UdpProxy({
  name: 'soak',
  listen: '127.0.0.1:0',
  upstream: `127.0.0.1:${config.upstreamPort}`,
  random: new Random(config.seed),
  io: config.io,
  sessionIdleMs: config.sessionIdleMs,
});
await proxy.start();
proxy.impair('upstream', config.upstream);
proxy.impair('downstream', config.downstream);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  proxy.stop().finally(() => {
    if (process.connected) process.disconnect();
    process.exit(0);
  });
};
process.on('message', (message: UdpChildRequest) => {
  if (message.type === 'stop') return stop();
  const last = proxy.lastSessionError;
  process.send?.({
    type: 'report',
    counters: proxy.counters(),
    queued: proxy.queued(),
    sessions: proxy.sessions().length,
    lastSessionError: last === undefined ? null : last.message,
  } satisfies UdpChildMessage);
});
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
process.send?.({ type: 'ready', port: proxy.port, io: proxy.io } satisfies UdpChildMessage);
