import { describeOperation, type Model, requireF } from '../model.js';

/**
 * A mutex, as in Knossos: `acquire` succeeds only when unlocked, `release` only when locked. Values are
 * ignored. The holder is not tracked (Jepsen gives a crashed client a new process id).
 */
export function mutexModel(): Model<boolean> {
  return {
    name: 'mutex',
    stepsByValue: true,
    init: () => false,
    step: (locked, op) => (op.f === 'acquire' ? (locked ? undefined : true) : locked ? false : undefined),
    key: (locked) => (locked ? 1 : 0),
    validate: (op) => requireF(op, 'mutex', ['acquire', 'release']),
    describe: describeOperation,
    show: (locked) => (locked ? 'locked' : 'unlocked'),
  };
}

export const mutex: Model<boolean> = mutexModel();
