/** proxy/'s surface for its neighbours: they import these from here, never its modules. */
export {
  bracketHost,
  formatHostPort,
  type HostName,
  isLoopbackHost,
  isWildcardHost,
  loopbackHostNames,
  parseHostHeader,
  parseHostName,
  parseHostPort,
  unbracketHost,
} from './address.js';
export { type PreparedUpdate, type ProxyStats, TcpProxy, type TcpProxyState } from './tcp-proxy.js';
export { type Direction, directions, type ToxicConfig, type ToxicKind, type ToxicStream } from './toxic.js';
export { normalizeToxic } from './toxic-config.js';
export { toxicFaultOf } from './toxic-faults.js';
export { toxicKind } from './toxic-registry.js';
export type { ToxicVocabulary } from './toxic-vocabulary.js';
export { impairmentLimits, impairmentNames, type UdpImpairments } from './udp/impairments.js';
export { UdpProxy, validateImpairments } from './udp/udp-proxy.js';
