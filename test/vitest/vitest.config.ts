// Vitest runs the compiled suites under dist/test/vitest/ (`*.vitest.js`, never node:test's `*.test.js`),
// so it tests the same JavaScript the package ships. Started by ./vitest.test.ts, part of `npm test`.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.vitest.js'],
    testTimeout: 10_000,
  },
});
