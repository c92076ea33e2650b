import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // lavapipe (the WebGPU tests) and nvcc share two cores in CI: a test that takes a second alone can take a minute there.
    testTimeout: 180_000,
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
  },
});
