import { describe, invalid, requireBoolean, requireNumber, requireObject } from '../core/assert.js';
import { impairmentLimits, impairmentNames, type UdpImpairments } from '../proxy/index.js';

/**
 * Per-direction impairments of a link, in the UDP proxy's shape (docs/udp.md). A TCP network accepts the
 * subset a byte stream can carry: `delay`, `rate` and `blackhole`.
 */
export type NetImpairments = UdpImpairments;

const datagramOnly = new Set<string>(['loss', 'reorder', 'duplicate', 'corrupt']);

/** One toxic that carries part of a direction's impairments on TCP (attributes by their typed names). */
export interface TcpToxicPlan {
  readonly kind: 'timeout' | 'latency' | 'bandwidth';
  readonly attributes: Record<string, number>;
}

/**
 * Validates impairments for a TCP link. Loss, reordering, duplication and corruption are datagram
 * effects: TCP retransmits, orders and checksums, so on a stream they would only show up as delay.
 */
export function validateTcpImpairments(input: unknown, field: string): NetImpairments {
  const object = requireObject(input, field);
  const result: NetImpairments = {};
  for (const key of Object.keys(object)) {
    if (datagramOnly.has(key)) {
      throw invalid(
        `${field}.${key}`,
        `a TCP network has no ${key}: TCP retransmits, orders and checksums its stream, so there is no ` +
          'datagram to lose, reorder, duplicate or corrupt. Use blackhole (or block) to stop a link, ' +
          'delay for latency, or a UDP network for datagram impairments',
        'one of delay, rate, blackhole',
      );
    }
    if (!(impairmentNames as readonly string[]).includes(key)) {
      throw invalid(
        `${field}.${key}`,
        `unknown impairment ${describe(key)}; valid: ${impairmentNames.join(', ')}`,
        `one of ${impairmentNames.join(', ')}`,
      );
    }
  }
  if (object.delay !== undefined) {
    const delay = requireObject(object.delay, `${field}.delay`);
    onlyKeys(delay, `${field}.delay`, ['ms', 'jitterMs', 'distribution']);
    const max = impairmentLimits.delayMaxMs;
    const ms = requireNumber(delay.ms, `${field}.delay.ms`, { min: 0, max });
    const jitterMs =
      delay.jitterMs === undefined
        ? undefined
        : requireNumber(delay.jitterMs, `${field}.delay.jitterMs`, { min: 0, max });
    if (delay.distribution !== undefined && delay.distribution !== 'uniform') {
      throw invalid(
        `${field}.delay.distribution`,
        `TCP latency draws its jitter uniformly; got ${describe(delay.distribution)}`,
        '"uniform"',
      );
    }
    result.delay = jitterMs === undefined ? { ms } : { ms, jitterMs };
    if (delay.distribution !== undefined) result.delay.distribution = 'uniform';
  }
  if (object.rate !== undefined) {
    const rate = requireObject(object.rate, `${field}.rate`);
    if (rate.queueBytes !== undefined) {
      throw invalid(
        `${field}.rate.queueBytes`,
        'a TCP link has no datagram queue to bound: a slow link holds the sender back through TCP flow control',
        'no queueBytes on TCP',
      );
    }
    onlyKeys(rate, `${field}.rate`, ['bytesPerSec']);
    const bytesPerSec = requireNumber(rate.bytesPerSec, `${field}.rate.bytesPerSec`, { min: 1 });
    result.rate = { bytesPerSec };
  }
  if (object.blackhole !== undefined) {
    result.blackhole = requireBoolean(object.blackhole, `${field}.blackhole`);
  }
  return result;
}

/** The toxics for one direction of a TCP link, keyed by the toxic's name (unique per proxy). */
export function tcpToxics(
  blocked: boolean,
  impairments: NetImpairments,
  direction: 'upstream' | 'downstream',
): Map<string, TcpToxicPlan> {
  const toxics = new Map<string, TcpToxicPlan>();
  if (impairments.delay !== undefined) {
    toxics.set(`faultline_latency_${direction}`, {
      kind: 'latency',
      attributes: { latencyMs: impairments.delay.ms, jitterMs: impairments.delay.jitterMs ?? 0 },
    });
  }
  if (impairments.rate !== undefined) {
    // The bandwidth toxic counts in KB/s of 1000 bytes.
    toxics.set(`faultline_rate_${direction}`, {
      kind: 'bandwidth',
      attributes: { rateKBPerSec: impairments.rate.bytesPerSec / 1000 },
    });
  }
  // Last in the chain, so data already delayed is held too, and released through nothing more.
  if (blocked || impairments.blackhole === true) {
    toxics.set(`faultline_block_${direction}`, { kind: 'timeout', attributes: { timeoutMs: 0 } });
  }
  return toxics;
}

function onlyKeys(object: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw invalid(
        `${field}.${key}`,
        `unknown field ${describe(key)}; valid: ${allowed.join(', ')}`,
        `one of ${allowed.join(', ')}`,
      );
    }
  }
}
