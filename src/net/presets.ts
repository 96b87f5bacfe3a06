import { describe, invalid } from '../core/assert.js';
import type { NetImpairments } from './impairments.js';

/**
 * Named impairments matching what chaos suites (Jepsen's `packet` nemesis, netem recipes) use. Each one is
 * an impairments object applied to every link it is given to, one direction each (see docs/network.md).
 */
export const netPresets = {
  /** Drops 30% of datagrams, independently. */
  'loss-30': { loss: { probability: 0.3 } },
  /** Drops 50% of datagrams, independently. */
  'loss-50': { loss: { probability: 0.5 } },
  /**
   * A quarter of the datagrams are held back until 3 later ones have overtaken them (or 100 ms pass).
   * faultline's reorder counts datagrams, so unlike netem's `reorder 25% gap 3` it needs no `delay`.
   */
  reorder: { reorder: { probability: 0.25, gap: 3 } },
  /** Half the datagrams arrive twice (one extra copy). */
  duplicate: { duplicate: { probability: 0.5, copies: 1 } },
  /** Every datagram (or TCP chunk) 500 ms late. */
  'latency-500': { delay: { ms: 500 } },
  /** Each delay uniform in [0, 600) ms: mean 300 ms, ±300 ms, so no draw is clamped at 0. */
  'jitter-300': { delay: { ms: 300, jitterMs: 300, distribution: 'uniform' } },
} as const satisfies Record<string, NetImpairments>;

export type NetPresetName = keyof typeof netPresets;

export const netPresetNames = Object.keys(netPresets) as NetPresetName[];

function isNetPresetName(name: unknown): name is NetPresetName {
  return typeof name === 'string' && Object.hasOwn(netPresets, name);
}

/** The impairments of a preset, as a fresh object the caller may keep. */
export function netPreset(name: unknown, field = 'preset'): NetImpairments {
  if (!isNetPresetName(name)) {
    const valid = netPresetNames.join(', ');
    throw invalid(field, `unknown preset ${describe(name)}; valid: ${valid}`, `one of ${valid}`);
  }
  return structuredClone(netPresets[name]) as NetImpairments;
}
