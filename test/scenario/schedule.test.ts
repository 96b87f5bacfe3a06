// The fault schedule resolves from the seed alone: the same seed gives the same instants, choices and
// draws; another seed others. Pure, so checked without a clock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { codes } from '../../src/core/codes.js';
import '../../src/scenario/fault-families.js';
import { readDocument } from '../../src/scenario/document.js';
import { methodLimitMs, scenarioJsonSchema, validateScenario } from '../../src/scenario/format.js';
import { describeStart, resolveEntries, resolveSchedule } from '../../src/scenario/schedule.js';

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

  it('jitter spreads each instant by a seeded delay below it; the other entries draw as before', () => {
    const jittered = faults.map((fault, i) => (i === 2 ? { ...fault, jitter: 400 } : fault));
    const limitMs = methodLimitMs(scenario);
    const planned = resolveSchedule(jittered, { seed: 7, limitMs });
    const ticks = planned.filter((step) => step.entry === 2);
    assert.equal(ticks.length, 3);
    for (const step of ticks) {
      const nominal = 1000 + step.tick * 1000;
      assert.ok(step.atMs >= nominal && step.atMs < nominal + 400, `tick ${step.tick} at ${step.atMs}`);
    }
    assert.ok(new Set(ticks.map((step) => step.atMs - step.tick * 1000)).size > 1, 'the delays differ');
    assert.deepEqual(resolveSchedule(jittered, { seed: 7, limitMs }), planned);
    assert.notDeepEqual(
      resolveSchedule(jittered, { seed: 8, limitMs }).filter((step) => step.entry === 2),
      ticks,
    );
    const others = (list: typeof planned) => list.filter((step) => step.entry !== 2);
    assert.deepEqual(others(planned), others(resolveSchedule(faults, { seed: 7, limitMs })));
    const refused = (timing: string) => {
      try {
        validateScenario(
          readDocument(
            'j.toml',
            `[experiment]\nname = "j"\nduration = "10s"\n[targets.db]\ntype = "tcp-proxy"\nupstream = "127.0.0.1:9"\n[[faults]]\nkind = "tcp.noop"\nparams = { proxy = "db" }\n${timing}\n`,
          ),
        );
      } catch (error) {
        return (error as Error).message;
      }
      assert.fail('expected a refusal');
    };
    assert.match(
      refused('every = "1s"\njitter = "1s"'),
      /^j\.toml:\d+:\d+: faults\[0\]\.jitter: must be shorter than every \(1000 ms\)/,
    );
    assert.match(
      refused('every = "1s"\nfor = "600ms"\njitter = "400ms"'),
      /faults\[0\]\.jitter: must be shorter than every \(1000 ms\) less for \(600 ms\)/,
    );
    assert.match(refused('jitter = "soon"'), /faults\[0\]\.jitter: /);
  });
});

// Conditions: an entry may wait for ops, for another entry's heal and for a probe to pass again. Validated
// against what they name; resolved from the seed relative to the moment they come true.
const store = `[experiment]
name = "conditions"
duration = "30s"

[targets.db]
type = "tcp-proxy"
upstream = "127.0.0.1:5432"

[[steadyState]]
name = "health"
probe = { type = "tcp", address = "127.0.0.1:5432" }
when = "continuous"

[[steadyState]]
name = "up"
probe = { type = "tcp", address = "127.0.0.1:5432" }

[workload]
type = "kv"
url = "http://127.0.0.1:5432"
ops = 2000
`;

/** The error for `text` as `line:column: message`, the file name cut. */
function refusal(text: string): string {
  try {
    validateScenario(readDocument('c.toml', text));
  } catch (error) {
    assert.equal((error as { code?: string }).code, codes.config, String(error));
    return (error as Error).message.slice('c.toml:'.length);
  }
  assert.fail('expected the scenario to be refused');
}

const entry = (lines: string, kind = 'tcp.noop') =>
  `[[faults]]\nkind = "${kind}"\nparams = { proxy = "db" }\n${lines}\n`;

describe('schedule conditions', () => {
  it('validates name, afterOps, after and whenGreen, and resolves them relative to their moment', () => {
    const text = `${store}${entry('name = "kill"\nafterOps = 1000\nat = "100ms"\nfor = "2s"')}${entry(
      'name = "slow"\nafter = "kill"\nwhenGreen = "health"\nevery = "1s"\ntimes = 2\nfor = "500ms"',
    )}${entry('at = "3s"\nfor = "1s"')}`;
    const { faults: checked = [] } = validateScenario(readDocument('c.toml', text));
    assert.deepEqual(
      checked.map((f) => [f.name ?? null, f.afterOps ?? null, f.after ?? null, f.whenGreen ?? null]),
      [
        ['kill', 1000, null, null],
        ['slow', null, 'kill', 'health'],
        [null, null, null, null],
      ],
    );
    const { entries, injections } = resolveEntries(checked, { seed: 5, limitMs: 30_000 });
    assert.deepEqual(
      injections.map((p) => [p.entry, p.name ?? null, p.atMs, p.healAtMs, p.start ?? null]),
      [
        [2, null, 3000, 4000, null],
        [0, 'kill', 100, 2100, { afterOps: 1000 }],
        [1, 'slow', 0, 500, { after: 'kill', whenGreen: 'health' }],
        [1, 'slow', 1000, 1500, { after: 'kill', whenGreen: 'health' }],
      ],
      'unconditional first, by time; then each conditional entry from its own start',
    );
    assert.deepEqual(
      entries.map((e) => [e.entry, e.lastTickMs]),
      [
        [0, 100],
        [1, 1000],
        [2, 3000],
      ],
    );
    assert.equal(
      describeStart({ afterOps: 1000, after: 'kill', whenGreen: 'health' }),
      'after 1000 ops, after "kill" is healed, when health is green again',
    );
  });

  it('draws the same choices with or without conditions: the seed, not the timing, decides', () => {
    const monkey = (condition: string) =>
      `${store}[[faults]]\n${condition}\nevery = "1s"\ntimes = 20\nfor = "500ms"\nprobability = 0.5\noneOf = [\n  { kind = "tcp.noop", params = { proxy = "db" } },\n  { kind = "tcp.timeout", params = { proxy = "db" } },\n]\n`;
    const draws = (condition: string, seed: number) =>
      resolveSchedule(validateScenario(readDocument('c.toml', monkey(condition))).faults ?? [], {
        seed,
        limitMs: 30_000,
      }).map((p) => [p.atMs, p.kind]);
    assert.deepEqual(draws('afterOps = 500', 9), draws('at = "0s"', 9));
    assert.deepEqual(draws('whenGreen = "health"', 9), draws('afterOps = 1', 9));
    assert.notDeepEqual(draws('afterOps = 500', 9), draws('afterOps = 500', 10));
  });

  it('refuses each condition that is wrong, naming file:line:column and the field', () => {
    const noWorkload = store.replace(/\[workload\][^[]*/, '');
    const noDuration = store.replace('duration = "30s"\n', '');
    const cases: [string, RegExp][] = [
      [`${store}${entry('name = 3')}`, /^25:8: faults\[0\]\.name: expected a string, got 3/],
      [`${store}${entry('name = ""')}`, /^25:8: faults\[0\]\.name: is empty/],
      [
        `${store}${entry('name = "a"')}${entry('name = "a"')}`,
        /^29:8: faults\[1\]\.name: "a" already names faults\[0\]/,
      ],
      [
        `${store}${entry('afterOps = "many"')}`,
        /^25:12: faults\[0\]\.afterOps: expected an integer >= 1, got "many"/,
      ],
      [`${store}${entry('afterOps = 0')}`, /^25:12: faults\[0\]\.afterOps: expected an integer >= 1/],
      [
        `${store}${entry('afterOps = 5000')}`,
        /^25:12: faults\[0\]\.afterOps: 5000 is more than the workload’s 2000 ops/,
      ],
      [
        `${noWorkload}${entry('afterOps = 10')}`,
        /^21:12: faults\[0\]\.afterOps: counts the workload’s ops, and there is no workload/,
      ],
      [
        `${store}${entry('whenGreen = "up"')}`,
        /^25:13: faults\[0\]\.whenGreen: no continuous or during-faults probe is named "up"; valid: one of health/,
      ],
      [`${store}${entry('whenGreen = ["health"]')}`, /^25:13: faults\[0\]\.whenGreen: expected a string/],
      [
        `${noDuration}${entry('whenGreen = "health"')}`,
        /^24:13: faults\[0\]\.whenGreen: waits for a probe that may never pass, so the method needs experiment\.duration/,
      ],
      [
        `${store}${entry('name = "a"\nfor = "1s"')}${entry('after = "b"')}`,
        /^30:9: faults\[1\]\.after: no fault entry is named "b"; valid: one of a/,
      ],
      [`${store}${entry('after = 3')}`, /^25:9: faults\[0\]\.after: expected a string, got 3/],
      [`${store}${entry('name = "a"\nafter = "a"')}`, /^26:9: faults\[0\]\.after: names its own entry/],
      [
        `${store}${entry('name = "a"')}${entry('after = "a"')}`,
        /^29:9: faults\[1\]\.after: "a" has no for, so it heals only at the end of the method; valid: an entry with for/,
      ],
      [
        `${store}${entry('name = "a"\nfor = "1s"\nafter = "b"')}${entry('name = "b"\nfor = "1s"\nafter = "a"')}`,
        /^27:9: faults\[0\]\.after: makes a cycle: a → b → a/,
      ],
    ];
    for (const [text, pattern] of cases) assert.match(refusal(text), pattern, text.slice(-80));
  });

  it('the JSON Schema describes the conditions on every entry', () => {
    const schema = scenarioJsonSchema() as {
      properties: { faults: { items: { oneOf: { properties: Record<string, { type?: string }> }[] } } };
    };
    for (const entrySchema of schema.properties.faults.items.oneOf) {
      assert.equal(entrySchema.properties.name?.type, 'string');
      assert.equal(entrySchema.properties.after?.type, 'string');
      assert.equal(entrySchema.properties.whenGreen?.type, 'string');
      assert.equal(entrySchema.properties.afterOps?.type, 'integer');
    }
  });
});
