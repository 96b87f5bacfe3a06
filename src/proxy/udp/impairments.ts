import { invalid, requireBoolean, requireNumber, requireObject, requireOneOf } from '../../core/assert.js';

/** The per-direction pipeline that applies these lives in pipeline.ts. */
export { DirectionPipeline, queueLimits, type UdpCounters } from './pipeline.js';

/** Independent loss, or bursty loss from a two-state Gilbert–Elliott chain. */
export type UdpLoss =
  | { probability: number }
  | { model: 'gilbert-elliott'; p: number; r: number; lossGood?: number; lossBad?: number };

/** Every field optional; `{}` is a clean path. See docs/udp.md for the exact semantics. */
export interface UdpImpairments {
  loss?: UdpLoss;
  delay?: { ms: number; jitterMs?: number; distribution?: 'uniform' | 'normal' };
  reorder?: { probability: number; gap?: number };
  duplicate?: { probability: number; copies?: number };
  corrupt?: { probability: number };
  rate?: { bytesPerSec: number; queueBytes?: number };
  blackhole?: boolean;
}

export const impairmentNames = [
  'loss',
  'delay',
  'reorder',
  'duplicate',
  'corrupt',
  'rate',
  'blackhole',
] as const;

/** Limits on parameters, so that every queue an impairment implies has a stated bound. */
export const impairmentLimits = {
  delayMaxMs: 3_600_000,
  reorderGapMax: 1000,
  duplicateCopiesMax: 100,
  queueBytesMax: 256 * 1024 * 1024,
} as const;

const probability = { min: 0, max: 1 } as const;

/** Refuses keys outside `allowed`, naming the valid ones. */
function onlyKeys(value: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const list = allowed.join(', ');
      throw invalid(`${field}.${key}`, `unknown field; expected one of ${list}`, `one of ${list}`);
    }
  }
}

function optionalNumber(
  value: Record<string, unknown>,
  key: string,
  field: string,
  options: { min?: number; max?: number; integer?: boolean },
): number | undefined {
  return value[key] === undefined ? undefined : requireNumber(value[key], `${field}.${key}`, options);
}

function validateLoss(input: unknown, field: string): UdpLoss {
  const value = requireObject(input, field);
  if (value.model === undefined) {
    onlyKeys(value, field, ['probability']);
    return { probability: requireNumber(value.probability, `${field}.probability`, probability) };
  }
  requireOneOf(value.model, `${field}.model`, ['gilbert-elliott'] as const);
  onlyKeys(value, field, ['model', 'p', 'r', 'lossGood', 'lossBad']);
  const loss: UdpLoss = {
    model: 'gilbert-elliott',
    p: requireNumber(value.p, `${field}.p`, probability),
    r: requireNumber(value.r, `${field}.r`, probability),
  };
  const lossGood = optionalNumber(value, 'lossGood', field, probability);
  const lossBad = optionalNumber(value, 'lossBad', field, probability);
  if (lossGood !== undefined) loss.lossGood = lossGood;
  if (lossBad !== undefined) loss.lossBad = lossBad;
  return loss;
}

function validateDelay(input: unknown, field: string): NonNullable<UdpImpairments['delay']> {
  const value = requireObject(input, field);
  onlyKeys(value, field, ['ms', 'jitterMs', 'distribution']);
  const delay: NonNullable<UdpImpairments['delay']> = {
    ms: requireNumber(value.ms, `${field}.ms`, { min: 0, max: impairmentLimits.delayMaxMs }),
  };
  const jitterMs = optionalNumber(value, 'jitterMs', field, { min: 0, max: impairmentLimits.delayMaxMs });
  if (jitterMs !== undefined) delay.jitterMs = jitterMs;
  if (value.distribution !== undefined)
    delay.distribution = requireOneOf(value.distribution, `${field}.distribution`, [
      'uniform',
      'normal',
    ] as const);
  return delay;
}

function validateProbabilityOnly(input: unknown, field: string): { probability: number } {
  const value = requireObject(input, field);
  onlyKeys(value, field, ['probability']);
  return { probability: requireNumber(value.probability, `${field}.probability`, probability) };
}

/**
 * Checks `input` against {@link UdpImpairments} and returns a fresh copy (so later changes to the
 * caller's object do not leak in). Throws FL_ERR_INVALID_ARGUMENT naming the field, e.g.
 * `upstream.loss.probability: expected a number >= 0 and <= 1, got 2`.
 */
export function validateImpairments(input: unknown, field: string): UdpImpairments {
  const value = requireObject(input, field);
  onlyKeys(value, field, impairmentNames);
  const result: UdpImpairments = {};
  if (value.loss !== undefined) result.loss = validateLoss(value.loss, `${field}.loss`);
  if (value.delay !== undefined) result.delay = validateDelay(value.delay, `${field}.delay`);
  if (value.reorder !== undefined) {
    const f = `${field}.reorder`;
    const reorder = requireObject(value.reorder, f);
    onlyKeys(reorder, f, ['probability', 'gap']);
    result.reorder = { probability: requireNumber(reorder.probability, `${f}.probability`, probability) };
    const gap = optionalNumber(reorder, 'gap', f, {
      min: 1,
      max: impairmentLimits.reorderGapMax,
      integer: true,
    });
    if (gap !== undefined) result.reorder.gap = gap;
  }
  if (value.duplicate !== undefined) {
    const f = `${field}.duplicate`;
    const duplicate = requireObject(value.duplicate, f);
    onlyKeys(duplicate, f, ['probability', 'copies']);
    result.duplicate = {
      probability: requireNumber(duplicate.probability, `${f}.probability`, probability),
    };
    const copies = optionalNumber(duplicate, 'copies', f, {
      min: 1,
      max: impairmentLimits.duplicateCopiesMax,
      integer: true,
    });
    if (copies !== undefined) result.duplicate.copies = copies;
  }
  if (value.corrupt !== undefined)
    result.corrupt = validateProbabilityOnly(value.corrupt, `${field}.corrupt`);
  if (value.rate !== undefined) {
    const f = `${field}.rate`;
    const rate = requireObject(value.rate, f);
    onlyKeys(rate, f, ['bytesPerSec', 'queueBytes']);
    result.rate = { bytesPerSec: requireNumber(rate.bytesPerSec, `${f}.bytesPerSec`, { min: 1 }) };
    const queueBytes = optionalNumber(rate, 'queueBytes', f, {
      min: 0,
      max: impairmentLimits.queueBytesMax,
      integer: true,
    });
    if (queueBytes !== undefined) result.rate.queueBytes = queueBytes;
  }
  if (value.blackhole !== undefined) result.blackhole = requireBoolean(value.blackhole, `${field}.blackhole`);
  return result;
}

/** Every UdpProxy, so the impairment faults can recognise one without importing udp-proxy.ts (a cycle). */
export const udpProxies = new WeakSet<object>();
