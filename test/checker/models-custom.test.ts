// The custom-model example of docs/linearizability.md, compiled and run (keep the two in step).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  checkBruteForce,
  checkLinearizability,
  checkLinearizabilitySync,
  type Model,
  requireF,
  valueKey,
} from 'faultline/check';
import { historyError, type Op } from 'faultline/history';

// --- example start
/** A LIFO stack: `push` v, and `pop` (invoke null) → ok v, or ok null when empty. */
type Stack = readonly string[]; // canonical keys of the elements, bottom first

const stack: Model<Stack> = {
  name: 'stack',
  init: () => [],
  step(state, op) {
    if (op.f === 'push') return [...state, valueKey(op.input)];
    if (op.type === 'info') return state.length === 0 ? undefined : state.slice(0, -1); // took some top, or never ran
    const got = valueKey(op.output);
    if (got === 'null') return state.length === 0 ? state : undefined;
    return state.at(-1) === got ? state.slice(0, -1) : undefined;
  },
  key: (state) => state.join(','), // injective: element keys are self-delimiting
  validate(op) {
    requireF(op, 'stack', ['push', 'pop']);
    if (op.f === 'push' && op.input === null)
      throw historyError(op.invoke, 'push of null', 'a value other than null');
  },
  show: (state) => `[${state.join(',')}]`,
};

const history: Op[] = [
  { process: 0, type: 'invoke', f: 'push', value: 1, time: 0, index: 0 },
  { process: 0, type: 'ok', f: 'push', value: 1, time: 1, index: 1 },
  { process: 0, type: 'invoke', f: 'push', value: 2, time: 2, index: 2 },
  { process: 0, type: 'ok', f: 'push', value: 2, time: 3, index: 3 },
  { process: 1, type: 'invoke', f: 'pop', value: null, time: 4, index: 4 },
  { process: 1, type: 'ok', f: 'pop', value: 1, time: 5, index: 5 }, // should have been 2
];

const result = await checkLinearizability(history, stack);
console.log(result.valid); // false
console.log(result.anomalies[0]?.message);
// --- example end

it('the documented custom model works', async () => {
  assert.equal(result.valid, false);
  assert.match(result.anomalies[0]?.message ?? '', /pop → 1 by process 1/);
  assert.equal(checkBruteForce(history, stack).valid, false);
  const fixed = history.map((op) => (op.index === 5 ? { ...op, value: 2 } : op));
  assert.equal((await checkLinearizability(fixed, stack)).valid, true);
  await assert.rejects(
    checkLinearizability(
      [
        { process: 0, type: 'invoke', f: 'peek', value: null, time: 0, index: 0 },
        { process: 0, type: 'ok', f: 'peek', value: 1, time: 1, index: 1 },
      ],
      stack,
    ),
    /op 0: the stack model has no operation "peek"/,
  );
});

it("a custom model whose step reads the op's process is not given the built-in models' symmetry", () => {
  // An owned lock: acquire sets the owner to the caller, release needs the caller to own it. Two pending
  // acquires look identical (same f, same input) but are not interchangeable.
  const ownedLock: Model<string> = {
    name: 'owned-lock',
    init: () => '',
    step: (owner, op) =>
      op.f === 'acquire'
        ? owner === ''
          ? String(op.process)
          : undefined
        : owner === String(op.process)
          ? ''
          : undefined,
    key: (owner) => owner,
  };
  const ops: Op[] = [
    { process: 1, type: 'invoke', f: 'acquire', value: null, time: 0, index: 0 },
    { process: 1, type: 'info', f: 'acquire', value: null, time: 1, index: 1 },
    { process: 2, type: 'invoke', f: 'acquire', value: null, time: 2, index: 2 },
    { process: 2, type: 'info', f: 'acquire', value: null, time: 3, index: 3 },
    { process: 2, type: 'invoke', f: 'release', value: null, time: 4, index: 4 },
    { process: 2, type: 'ok', f: 'release', value: null, time: 5, index: 5 },
  ];
  assert.equal(checkBruteForce(ops, ownedLock).valid, true);
  assert.equal(checkLinearizabilitySync(ops, ownedLock).valid, true);
});
