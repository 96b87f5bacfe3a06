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
export { ProxyHub, type ProxyInput, type ToxicInput, type ToxiproxyApi } from './hub.js';
export { type ProxyState, type ProxyStats, TcpProxy } from './tcp-proxy.js';
export { type Direction, directions, type ToxicSpec } from './toxic.js';
export { impairmentLimits, impairmentNames, type UdpImpairments } from './udp/impairments.js';
export { UdpProxy, validateImpairments } from './udp/udp-proxy.js';
