/** faultline/proxy — the TCP fault proxy: proxies, toxics and the in-process Toxiproxy-shaped API. */
export {
  ProxyHub,
  type ProxyHubOptions,
  type ProxyInput,
  type ToxicInput,
  type ToxiproxyApi,
} from '../api/hub.js';
export type { ProxyState, ToxicSpec } from '../api/toxiproxy-toxics.js';
export { type Pace, ReleaseQueue } from '../proxy/release-queue.js';
export {
  type TcpBandwidthParams,
  type TcpCorruptParams,
  type TcpLatencyParams,
  type TcpLimitDataParams,
  type TcpLimitTimeParams,
  type TcpResetPeerParams,
  type TcpSlicerParams,
  type TcpSlowCloseParams,
  type TcpSlowOpenParams,
  type TcpTimeoutParams,
  type ToxicFaultParams,
  tcp,
} from '../proxy/tcp-faults.js';
export { type ProxyOptions, type ProxyStats, TcpProxy, type TcpProxyState } from '../proxy/tcp-proxy.js';
export {
  type AttributeSpec,
  type Attributes,
  type Direction,
  PassThroughStage,
  type StageContext,
  type ToxicConfig,
  type ToxicKind,
  type ToxicStage,
  type ToxicStream,
} from '../proxy/toxic.js';
export { registerToxic, toxicKind, toxicKinds } from '../proxy/toxic-registry.js';
export type { UdpIo } from '../proxy/udp/datagram-socket.js';
export {
  type ImpairmentFaultParams,
  type UdpBurstLossParams,
  type UdpCorruptParams,
  type UdpDelayParams,
  type UdpDuplicateParams,
  type UdpLossParams,
  type UdpRateParams,
  type UdpReorderParams,
  udp,
} from '../proxy/udp/impairment-faults.js';
export { type UdpImpairments, type UdpLoss, validateImpairments } from '../proxy/udp/impairments.js';
export type { UdpCounters } from '../proxy/udp/pipeline.js';
export type { UdpSessionInfo } from '../proxy/udp/session.js';
export {
  type UdpDirection,
  UdpProxy,
  type UdpProxyCounters,
  type UdpProxyOptions,
  type UdpSessionCounters,
  type UdpSessionError,
} from '../proxy/udp/udp-proxy.js';
