/** faultline/net — a network of nodes joined by proxied links: partitions, blocks and impairments. */
export type { NetImpairments } from '../net/impairments.js';
export {
  type NetProtocol,
  Network,
  type NetworkNode,
  type NetworkOptions,
  type NetworkState,
  type Pair,
  type PartitionState,
} from '../net/network.js';
export {
  type NetBlockParams,
  type NetBridgeParams,
  type NetImpairParams,
  type NetIsolateParams,
  type NetPartitionParams,
  type NetRingParams,
  net,
} from '../net/network-faults.js';
export { type NetPresetName, netPreset, netPresetNames, netPresets } from '../net/presets.js';
