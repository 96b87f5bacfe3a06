import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/core/ledger.js';

describe('Ledger', () => {
  it('heals in reverse order of application when the run ends normally', async () => {
    const healed: string[] = [];
    const ledger = new Ledger({ handleSignals: false });
    const result = await ledger.run(async (l) => {
      l.push('a', () => void healed.push('a'));
      l.push('b', async () => void healed.push('b'));
      l.push('c', () => void healed.push('c'));
      return 42;
    });
    assert.equal(result, 42);
    assert.deepEqual(healed, ['c', 'b', 'a']);
    assert.equal(ledger.size, 0);
  });

  it('heals when the run throws, and rethrows the run error', async () => {
    const healed: string[] = [];
    const ledger = new Ledger({ handleSignals: false });
    await assert.rejects(
      ledger.run((l) => {
        l.push('a', () => void healed.push('a'));
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(healed, ['a']);
  });

  it('makes each heal idempotent and removes it from the ledger', async () => {
    let count = 0;
    const ledger = new Ledger({ handleSignals: false });
    const entry = ledger.push('once', () => void count++);
    await Promise.all([entry.heal(), entry.heal()]);
    await ledger.drain();
    assert.equal(count, 1);
    assert.equal(entry.healed, true);
    assert.deepEqual(ledger.labels(), []);
  });

  it('runs every heal even when some fail, then reports all failures', async () => {
    const healed: string[] = [];
    const events: string[] = [];
    const ledger = new Ledger({
      handleSignals: false,
      onHeal: (label, error) => events.push(error ? `${label}!` : label),
    });
    ledger.push('a', () => void healed.push('a'));
    ledger.push('b', () => {
      throw new Error('cannot heal b');
    });
    ledger.push('c', () => void healed.push('c'));
    await assert.rejects(
      ledger.drain(),
      (error: Error & { code?: string; details?: { failed?: string[] } }) => {
        assert.equal(error.code, 'FL_ERR_HEAL_FAILED');
        assert.match(error.message, /b: cannot heal b/);
        assert.deepEqual(error.details?.failed, ['b']);
        return true;
      },
    );
    assert.deepEqual(healed, ['c', 'a']);
    assert.deepEqual(events, ['c', 'b!', 'a']);
  });

  it('drains when its abort signal fires, and heals at once what is pushed after', async () => {
    const controller = new AbortController();
    const ledger = new Ledger({ handleSignals: false, signal: controller.signal });
    const healed: string[] = [];
    ledger.push('a', () => void healed.push('a'));
    controller.abort();
    await ledger.drain();
    assert.deepEqual(healed, ['a']);
    assert.throws(() => ledger.push('late', () => void healed.push('late')), { code: 'FL_ERR_ABORTED' });
    await ledger.drain();
    assert.deepEqual(healed, ['a', 'late']);
    await ledger.close();
  });

  it('leaves the process signals alone unless asked (a test runner owns them)', async () => {
    const before = process.listenerCount('SIGINT');
    const ledger = new Ledger();
    assert.equal(process.listenerCount('SIGINT'), before);
    await ledger.close();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`drains on ${signal}, then ends the process with that signal`, async () => {
      const ledgerModule = new URL('../../src/core/ledger.js', import.meta.url).href;
      const script = `
        import { Ledger } from ${JSON.stringify(ledgerModule)};
        const ledger = new Ledger({ handleSignals: true });
        ledger.push('first', () => console.log('healed first'));
        ledger.push('second', async () => { await new Promise((r) => setTimeout(r, 20)); console.log('healed second'); });
        console.log('ready');
        setInterval(() => {}, 1000);
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.setEncoding('utf8');
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (text: string) => {
          output += text;
          if (output.includes('ready')) resolve();
        }),
      );
      try {
        await ready;
        child.kill(signal);
        const [code, exitSignal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
        assert.equal(exitSignal, signal, `exit code ${code}`);
        assert.match(output, /healed second\s+healed first/);
      } finally {
        child.kill('SIGKILL');
      }
    });
  }
});
