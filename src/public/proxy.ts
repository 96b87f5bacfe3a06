/** faultline/proxy — the TCP fault proxy: proxies, toxics and the in-process Toxiproxy-shaped API. */
export {
  ProxyHub,
  type ProxyHubOptions,
  type ProxyInput,
  type ToxicInput,
  type ToxiproxyApi,
} from '../proxy/hub.js';
export { type Pace, ReleaseQueue } from '../proxy/release-queue.js';
export { type ProxyOptions, type ProxyState, type ProxyStats, TcpProxy } from '../proxy/tcp-proxy.js';
export {
  type AttributeSpec,
  type Attributes,
  type Direction,
  PassThroughStage,
  type StageContext,
  type ToxicKind,
  type ToxicSpec,
  type ToxicStage,
  type ToxicStream,
} from '../proxy/toxic.js';
export { registerToxic, toxicKind, toxicKinds } from '../proxy/toxic-registry.js';
export * from '../proxy/udp/udp-proxy.js';
