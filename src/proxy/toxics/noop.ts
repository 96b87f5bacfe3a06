import { PassThroughStage, type ToxicKind } from '../toxic.js';

export const noop: ToxicKind = {
  name: 'noop',
  summary: 'Does nothing; data passes unchanged (Toxiproxy has it too).',
  attributes: {},
  create: (context) => new PassThroughStage(context),
};
