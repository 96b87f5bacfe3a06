// Vitest runs only the compiled Vitest suites (test/vitest/*.vitest.ts → dist/test/vitest/*.vitest.js,
// after `npm run build`), so it tests the JavaScript the package ships and never picks up node:test's
// *.test.ts files. `npm test` runs it through test/vitest/vitest.test.ts; `npx vitest run` works too.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['dist/test/vitest/**/*.vitest.js'],
    testTimeout: 10_000,
    // Vitest refuses tags it was not told of: these are the scenario tags test/vitest/tags.vitest.ts uses.
    tags: [{ name: 'chaos' }, { name: 'chaos:network' }, { name: 'chaos:process' }],
  },
});
