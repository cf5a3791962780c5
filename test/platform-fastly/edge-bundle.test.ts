// What reaches the edge bundle (and so bin/main.wasm, which grows by several bytes per byte of
// bundled JavaScript: docs/performance.md). Bundles the Fastly entry with esbuild as
// scripts/build-wasm.mjs does and checks its inputs: code only the CLI or Node needs must stay out.
import type { build } from 'esbuild';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// The esbuild @fastly/js-compute depends on, as scripts/build-wasm.mjs uses it.
const jsCompute = createRequire(import.meta.url).resolve('@fastly/js-compute');
const esbuild = createRequire(jsCompute)('esbuild') as { build: typeof build };

let inputs: string[] = [];

beforeAll(async () => {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/platform/fastly/index.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['fastly'],
    external: ['fastly:*'],
    // The settings object the build embeds; its content does not change the module graph.
    define: { __TSK_SETTINGS__: '{}' },
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const [output] = Object.values(result.metafile.outputs);
  // Modules whose code is in the output (esbuild lists emptied modules with 0 bytes).
  inputs = Object.entries(output?.inputs ?? {})
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([k]) => k);
}, 60_000);

describe('the edge bundle', () => {
  it('holds the app', () => {
    expect(inputs).toContain('src/http/app.ts');
    expect(inputs).toContain('src/fastly-api/client.ts');
  });

  it('leaves out what only tsctl setup needs: services, versions, links and backends', () => {
    expect(inputs).not.toContain('src/fastly-api/services.ts');
    expect(inputs).not.toContain('src/fastly-api/services-client.ts');
  });

  it('leaves out the CLI, the Node platform and the Node-only packages', () => {
    const stray = inputs.filter((p) =>
      /^(src\/cli\/|src\/platform\/node\/|node_modules\/(jose|smol-toml)\/|node_modules\/zod\/v4\/classic\/)/.test(
        p,
      ),
    );
    expect(stray).toEqual([]);
  });
});
