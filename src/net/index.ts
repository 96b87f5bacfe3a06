/** net/'s surface for its neighbours: they import these from here, never its modules. */

export { type NetProtocol, Network } from './network.js';
export { net } from './network-faults.js';
