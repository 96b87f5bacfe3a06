/** api/'s surface for its neighbours: they import these from here, never its modules. */
export {
  ProxyHub,
  type ProxyHubOptions,
  type ProxyInput,
  type ToxicInput,
  type ToxiproxyApi,
} from './hub.js';
export { checkToken, startApiServer } from './server.js';
export { type ProxyState, proxyMembers, type ToxicSpec, toxicMembers } from './toxiproxy-toxics.js';
