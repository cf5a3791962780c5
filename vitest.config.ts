import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** A hand-written fake of one `fastly:*` module, for the Fastly entry's tests. */
const fastlyFake = (name: string) =>
  fileURLToPath(new URL(`./test/platform-fastly/fakes/fastly-${name}.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // `fastly:*` modules exist only inside the Compute runtime; under Node the entry gets fakes.
    alias: [
      { find: /^fastly:config-store$/, replacement: fastlyFake('config-store') },
      { find: /^fastly:secret-store$/, replacement: fastlyFake('secret-store') },
      { find: /^fastly:edge-rate-limiter$/, replacement: fastlyFake('edge-rate-limiter') },
      { find: /^fastly:logger$/, replacement: fastlyFake('logger') },
      { find: /^fastly:env$/, replacement: fastlyFake('env') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Every test must assert something (see the file for why).
    setupFiles: ['test/support/setup-assertions.ts'],
    // Need bin/main.wasm, or build a wasm of their own (~30 s): they run in the parity run
    // (vitest.wasm.config.ts, `npm run test:wasm`).
    exclude: [
      'test/local-compute/wasm-parity.test.ts',
      'test/verifier/compute-partner.wasm.test.ts',
      'node_modules/**',
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
