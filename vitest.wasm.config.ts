// The parity run: end-to-end suites that drive the edge over real HTTP, against bin/main.wasm on
// the local Compute host instead of the app on Node (`npm run build:local` first). Every request is a
// cold instance, so these suites get more time than in the main run.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

process.env['TSK_TEST_TARGET'] = 'wasm';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // Not merged with the main run's lists (mergeConfig would append to them).
    include: [
      'test/e2e/trusted-server-routes.test.ts',
      'test/e2e/keysets.test.ts',
      'test/e2e/admin-security.test.ts',
      'test/e2e/dry-run-propagation.test.ts',
      'test/e2e/taint-cutoff.test.ts',
      'test/local-compute/wasm-parity.test.ts',
      'test/verifier/compute-partner.wasm.test.ts',
      'test/security/hostile-table.test.ts',
      'test/cli/keyset.test.ts',
      'test/cli/keys.test.ts',
    ],
    exclude: ['node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The guest threads already use both cores; files in parallel only add contention.
    fileParallelism: false,
  },
});
