import type { ToxicKind } from '../toxic.js';
import { TimedActionStage } from './timed-action.js';

export const limitTime: ToxicKind = {
  name: 'limit-time',
  summary: 'Passes data normally, then closes the connection after a fixed time ("cable unplugged").',
  attributes: {
    limitMs: {
      default: 0,
      unit: 'ms',
      description: 'time after the toxic takes effect before the connection is closed',
    },
  },
  create: (context, attributes) =>
    new TimedActionStage(
      context,
      (a) => a.limitMs ?? 0,
      () => context.close(),
      attributes,
    ),
};
