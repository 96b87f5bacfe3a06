/** faultline/api — the Toxiproxy-compatible HTTP server and a typed client for it (or for Toxiproxy). */
export { ToxiproxyClient } from '../api/client.js';
export type { ProxyInput, ToxicInput, ToxiproxyApi } from '../api/hub.js';
export { type ApiServer, type ApiServerOptions, startApiServer } from '../api/server.js';
export type { ProxyState, ToxicSpec } from '../api/toxiproxy-toxics.js';
