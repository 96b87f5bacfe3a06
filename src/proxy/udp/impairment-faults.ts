import { conflict } from '../../core/claims.js';
import { applyWithHealSync, type FaultContext, type Injection } from '../../core/fault.js';
import { defineFault, type FaultFactory } from '../../core/fault-registry.js';
import type { ParamSpecs } from '../../core/params.js';
import { impairmentLimits, type UdpImpairments, udpProxies } from './impairments.js';
import type { UdpDirection, UdpProxy } from './udp-proxy.js';

type ImpairmentName = keyof UdpImpairments;

/** What every impairment fault takes besides its own parameters. */
export interface ImpairmentFaultParams {
  readonly proxy: UdpProxy;
  /** upstream (client → server), downstream, or both (default). */
  readonly direction?: UdpDirection | 'both';
}

const common: ParamSpecs = {
  proxy: {
    type: 'ref',
    ref: 'udp-proxy',
    is: (v) => typeof v === 'object' && v !== null && udpProxies.has(v),
    description: 'the proxy to act on',
  },
  direction: {
    type: 'string',
    oneOf: ['upstream', 'downstream', 'both'],
    default: 'both',
    description: 'upstream (client → server), downstream (server → client) or both',
  },
};
const probability = (description: string) => ({ type: 'number', min: 0, max: 1, description }) as const;
const maxDelayMs = impairmentLimits.delayMaxMs;

/**
 * One fault kind per impairment: it sets that impairment on the chosen directions and heals by removing
 * it. Two faults of one kind on the same direction of one proxy conflict (FL_ERR_CONFLICT); different
 * kinds stack.
 */
function impairmentFault<P extends ImpairmentFaultParams>(
  name: ImpairmentName,
  kind: string,
  summary: string,
  params: ParamSpecs,
  toImpairment: (params: P) => UdpImpairments[ImpairmentName],
): FaultFactory<P> {
  return defineFault<P>({
    kind,
    summary,
    params: { ...common, ...params },
    apply: async (given, context) =>
      applyImpairment(context, kind, given.proxy, given.direction ?? 'both', name, toImpairment(given)),
  });
}

/**
 * Sets one impairment on the directions, recorded in `context`'s ledger (heal removes it); refuses with
 * FL_ERR_CONFLICT when a direction already has it. Synchronous, so `UdpProxy.impair` acts at once through
 * this same path.
 */
export function applyImpairment(
  context: FaultContext,
  kind: string,
  proxy: UdpProxy,
  direction: UdpDirection | 'both',
  name: ImpairmentName,
  value: UdpImpairments[ImpairmentName],
): Injection {
  const directions = directionsOf(direction);
  const current = proxy.impairments();
  for (const one of directions) {
    if (current[one][name] !== undefined) {
      throw conflict(
        'direction',
        `${kind}: proxy "${proxy.name}" already has ${name} on ${one}; heal that fault first`,
      );
    }
  }
  return applyWithHealSync(
    context,
    `${kind} on ${proxy.name} (${direction})`,
    () => {
      for (const one of directions) proxy.setImpairment(one, name, undefined);
    },
    () => {
      for (const one of directions) proxy.setImpairment(one, name, structuredClone(value));
    },
  );
}

/** `value` without its undefined fields: optional impairment fields stay absent, as given. */
function defined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

export const directionsOf = (direction: UdpDirection | 'both'): UdpDirection[] =>
  direction === 'both' ? ['upstream', 'downstream'] : [direction];

export interface UdpLossParams extends ImpairmentFaultParams {
  readonly lossProbability: number;
}
export interface UdpBurstLossParams extends ImpairmentFaultParams {
  /** Chance per datagram of entering a burst (Gilbert–Elliott p). */
  readonly enterBurstProbability: number;
  /** Chance per datagram of leaving it (r): bursts last 1/r datagrams on average. */
  readonly leaveBurstProbability: number;
  readonly lossInBurstProbability?: number;
  readonly lossOutsideBurstProbability?: number;
}
export interface UdpDelayParams extends ImpairmentFaultParams {
  readonly delayMs: number;
  readonly jitterMs?: number;
  readonly distribution?: 'uniform' | 'normal';
}
export interface UdpReorderParams extends ImpairmentFaultParams {
  readonly reorderProbability: number;
  /** How many later datagrams overtake a held one (default 1). */
  readonly gapDatagrams?: number;
}
export interface UdpDuplicateParams extends ImpairmentFaultParams {
  readonly duplicateProbability: number;
  readonly copies?: number;
}
export interface UdpCorruptParams extends ImpairmentFaultParams {
  /** Chance that a datagram has one of its bytes changed (per datagram, not per bit as tcp.corrupt). */
  readonly corruptProbability: number;
}
export interface UdpRateParams extends ImpairmentFaultParams {
  readonly rateBytesPerSec: number;
  readonly queueBytes?: number;
}

/** The UDP impairments as faults: `udp.loss({ proxy, lossProbability: 0.3 })` … */
export const udp = {
  loss: impairmentFault<UdpLossParams>(
    'loss',
    'udp.loss',
    'Drops each datagram independently with a probability.',
    { lossProbability: probability('chance that a datagram is dropped') },
    (p) => ({ probability: p.lossProbability }),
  ),
  burstLoss: impairmentFault<UdpBurstLossParams>(
    'loss',
    'udp.burst-loss',
    'Drops datagrams in bursts (a two-state Gilbert–Elliott chain).',
    {
      enterBurstProbability: probability('chance per datagram of entering a burst'),
      leaveBurstProbability: probability('chance per datagram of leaving a burst'),
      lossInBurstProbability: { ...probability('loss within a burst (default 1)'), optional: true },
      lossOutsideBurstProbability: { ...probability('loss outside bursts (default 0)'), optional: true },
    },
    (p) =>
      defined({
        model: 'gilbert-elliott' as const,
        p: p.enterBurstProbability,
        r: p.leaveBurstProbability,
        lossBad: p.lossInBurstProbability,
        lossGood: p.lossOutsideBurstProbability,
      }),
  ),
  delay: impairmentFault<UdpDelayParams>(
    'delay',
    'udp.delay',
    'Delays each datagram, with optional jitter; datagrams may overtake each other.',
    {
      delayMs: { type: 'number', min: 0, max: maxDelayMs, unit: 'ms', description: 'mean delay' },
      jitterMs: {
        type: 'number',
        min: 0,
        max: maxDelayMs,
        unit: 'ms',
        optional: true,
        description: 'spread (default 0)',
      },
      distribution: {
        type: 'string',
        oneOf: ['uniform', 'normal'],
        optional: true,
        description: 'uniform in ±jitter (default), or normal with jitter as standard deviation',
      },
    },
    (p) => defined({ ms: p.delayMs, jitterMs: p.jitterMs, distribution: p.distribution }),
  ),
  reorder: impairmentFault<UdpReorderParams>(
    'reorder',
    'udp.reorder',
    'Holds a datagram back until later ones have passed it.',
    {
      reorderProbability: probability('chance that a datagram is held back'),
      gapDatagrams: {
        type: 'number',
        min: 1,
        max: impairmentLimits.reorderGapMax,
        integer: true,
        optional: true,
        description: 'how many later datagrams pass it (default 1)',
      },
    },
    (p) => defined({ probability: p.reorderProbability, gap: p.gapDatagrams }),
  ),
  duplicate: impairmentFault<UdpDuplicateParams>(
    'duplicate',
    'udp.duplicate',
    'Sends extra copies of a datagram.',
    {
      duplicateProbability: probability('chance that a datagram is duplicated'),
      copies: {
        type: 'number',
        min: 1,
        max: impairmentLimits.duplicateCopiesMax,
        integer: true,
        optional: true,
        description: 'extra copies sent (default 1)',
      },
    },
    (p) => defined({ probability: p.duplicateProbability, copies: p.copies }),
  ),
  corrupt: impairmentFault<UdpCorruptParams>(
    'corrupt',
    'udp.corrupt',
    'Changes a byte of a datagram (per datagram).',
    { corruptProbability: probability('chance that a datagram is corrupted') },
    (p) => ({ probability: p.corruptProbability }),
  ),
  rate: impairmentFault<UdpRateParams>(
    'rate',
    'udp.rate',
    'Limits throughput; what exceeds the queue is dropped.',
    {
      rateBytesPerSec: { type: 'number', min: 1, unit: 'bytes/s', description: 'throughput limit' },
      queueBytes: {
        type: 'number',
        min: 0,
        max: impairmentLimits.queueBytesMax,
        integer: true,
        optional: true,
        unit: 'bytes',
        description: 'bytes that may wait for the rate; beyond it datagrams are dropped',
      },
    },
    (p) => defined({ bytesPerSec: p.rateBytesPerSec, queueBytes: p.queueBytes }),
  ),
  blackhole: impairmentFault<ImpairmentFaultParams>(
    'blackhole',
    'udp.blackhole',
    'Drops every datagram.',
    {},
    () => true,
  ),
};

/** The fault kind that carries an impairment as `UdpProxy.impair` gives it. */
export function impairmentKind(
  name: ImpairmentName,
  value: NonNullable<UdpImpairments[ImpairmentName]>,
): string {
  if (name === 'loss') return 'model' in (value as object) ? 'udp.burst-loss' : 'udp.loss';
  return `udp.${name}`;
}
