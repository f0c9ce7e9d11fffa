import { defineConfig } from 'vitest/config';

// Lab and datapath tests share kernel state (network namespaces, pinned maps),
// so test files run one at a time; tests inside a file stay sequential too.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/src/**/*.test.tsx', 'bench/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
