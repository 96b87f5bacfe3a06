// The fault schedule resolves from the seed alone: the same seed gives the same instants, choices and
// draws; another seed others. Pure, so checked without a clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../../src/scenario/fault-families.js';
import { readDocument } from '../../src/scenario/document.js';
import { methodLimitMs, validateScenario } from '../../src/scenario/format.js';
import { resolveSchedule } from '../../src/scenario/schedule.js';

const scenario = validateScenario(
  readDocument(
    'monkey.toml',
    `[experiment]
name = "chaos monkey"
duration = "60s"
timeLimit = "90s"

[targets.db]
type = "tcp-proxy"
upstream = "127.0.0.1:5432"

[targets.dns]
type = "udp-proxy"
upstream = "127.0.0.1:53"

# at 2 s, for 5 s
[[faults]]
kind = "tcp.latency"
at = "2s"
for = "5s"
params = { proxy = "db", latencyMs = 100 }

# every 10 s from 10 s, one of two faults, with a chance of 0.5, for 2 s
[[faults]]
every = "10s"
at = "10s"
for = "2s"
probability = 0.5
oneOf = [
  { kind = "tcp.reset-peer", params = { proxy = "db" } },
  { kind = "udp.loss", params = { proxy = "dns", lossProbability = 0.3 } },
]

# 3 times, 1 s apart, healed at the end
[[faults]]
kind = "udp.delay"
at = "1s"
every = "1s"
times = 3
params = { proxy = "dns", delayMs = 20, direction = "upstream" }
`,
  ),
);
const faults = scenario.faults ?? [];
const resolve = (seed: number) => resolveSchedule(faults, { seed, limitMs: methodLimitMs(scenario) });

describe('resolveSchedule', () => {
  it('places one-off, repeated and limited entries at their instants, sorted by time', () => {
    const planned = resolve(1);
    const fixed = planned.filter((p) => p.entry !== 1).map((p) => [p.atMs, p.kind, p.healAtMs ?? null]);
    assert.deepEqual(fixed, [
      [1000, 'udp.delay', null],
      [2000, 'tcp.latency', 7000],
      [2000, 'udp.delay', null],
      [3000, 'udp.delay', null],
    ]);
    const monkey = planned.filter((p) => p.entry === 1);
    assert.ok(monkey.every((p) => p.atMs % 10_000 === 0 && p.atMs >= 10_000 && p.atMs < 60_000));
    assert.ok(monkey.every((p) => p.healAtMs === p.atMs + 2000));
    assert.deepEqual(
      planned.map((p) => p.atMs),
      [...planned.map((p) => p.atMs)].sort((a, b) => a - b),
    );
  });

  it('the same seed gives the same schedule; other seeds give other draws and choices', () => {
    assert.deepEqual(resolve(42), resolve(42));
    const shapes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      shapes.add(
        JSON.stringify(
          resolve(seed)
            .filter((p) => p.entry === 1)
            .map((p) => [p.atMs, p.kind]),
        ),
      );
    }
    assert.ok(shapes.size > 10, `${shapes.size} different monkey schedules from 40 seeds`);
    const kinds = new Set(
      [...Array(40).keys()].flatMap((seed) =>
        resolve(seed)
          .filter((p) => p.entry === 1)
          .map((p) => p.kind),
      ),
    );
    assert.deepEqual([...kinds].sort(), ['tcp.reset-peer', 'udp.loss']);
  });

  it('refuses a schedule past the time limit or too large to hold', () => {
    assert.throws(
      () => resolveSchedule(faults, { seed: 1, limitMs: 1500 }),
      /faults\[0\]\.at: 2000 ms is not before the time limit/,
    );
    const every = [{ choices: faults[0]?.choices ?? [], at: 0, every: 1 }];
    assert.throws(
      () => resolveSchedule(every, { seed: 1, limitMs: 600_000 }),
      /would tick 600000 times; a schedule makes at most 10000/,
    );
  });
});
