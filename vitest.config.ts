import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    // Diagnostics print paths relative to the working directory; run tests from the project root.
    root: '.',
  },
});
