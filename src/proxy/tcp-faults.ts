import type { FaultFactory } from '../core/fault-registry.js';
import { type ToxicFaultParams, toxicFault } from './toxic-faults.js';
import './toxic-registry.js';

export type { ToxicFaultParams } from './toxic-faults.js';

export interface TcpLatencyParams extends ToxicFaultParams {
  readonly latencyMs?: number;
  /** Each delay is latencyMs plus a uniform draw in [-jitterMs, +jitterMs]. */
  readonly jitterMs?: number;
}
export interface TcpBandwidthParams extends ToxicFaultParams {
  /** Kilobytes (of 1,000 bytes, as Toxiproxy counts them) per second; 0 lets nothing pass. */
  readonly rateKBPerSec?: number;
}
export interface TcpSlowCloseParams extends ToxicFaultParams {
  readonly delayMs?: number;
}
export interface TcpTimeoutParams extends ToxicFaultParams {
  /** 0 keeps the connection open (data is dropped) until the fault heals. */
  readonly timeoutMs?: number;
}
export interface TcpResetPeerParams extends ToxicFaultParams {
  readonly timeoutMs?: number;
}
export interface TcpSlicerParams extends ToxicFaultParams {
  readonly averageSizeBytes?: number;
  readonly sizeVariationBytes?: number;
  readonly delayMicros?: number;
}
export interface TcpLimitDataParams extends ToxicFaultParams {
  readonly limitBytes?: number;
}
export interface TcpSlowOpenParams extends ToxicFaultParams {
  readonly delayMs?: number;
}
export interface TcpLimitTimeParams extends ToxicFaultParams {
  readonly limitMs?: number;
}
export interface TcpCorruptParams extends ToxicFaultParams {
  /** Chance that any one bit is flipped (per bit, not per datagram as udp.corrupt). */
  readonly bitFlipProbability?: number;
}

const factory = <P extends ToxicFaultParams>(name: string): FaultFactory<P> =>
  toxicFault(name) as unknown as FaultFactory<P>;

/** Every built-in toxic as a fault: `tcp.latency({ proxy, latencyMs: 100 })` … (kinds `tcp.<toxic kind>`). */
export const tcp = {
  latency: factory<TcpLatencyParams>('latency'),
  bandwidth: factory<TcpBandwidthParams>('bandwidth'),
  slowClose: factory<TcpSlowCloseParams>('slow-close'),
  timeout: factory<TcpTimeoutParams>('timeout'),
  resetPeer: factory<TcpResetPeerParams>('reset-peer'),
  slicer: factory<TcpSlicerParams>('slicer'),
  limitData: factory<TcpLimitDataParams>('limit-data'),
  noop: factory<ToxicFaultParams>('noop'),
  slowOpen: factory<TcpSlowOpenParams>('slow-open'),
  limitTime: factory<TcpLimitTimeParams>('limit-time'),
  corrupt: factory<TcpCorruptParams>('corrupt'),
};
