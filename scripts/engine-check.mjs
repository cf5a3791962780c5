// `npm run check:engine`: bundles test/engine/in-engine-checks.ts as the Fastly build does and
// evaluates it inside the real js-compute engine at build time (top-level await under Wizer).
// Exits non-zero if the engine fails to run it or any check prints FAIL.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const jsCompute = createRequire(import.meta.url).resolve('@fastly/js-compute');
const esbuild = createRequire(jsCompute)('esbuild');
const runtimeCli = join(dirname(jsCompute), 'cli', 'js-compute-runtime-cli.js');
const out = join(root, 'build', 'engine-check');
mkdirSync(out, { recursive: true });

await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['test/engine/in-engine-checks.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['fastly'],
  external: ['fastly:*'],
  outfile: join(out, 'checks.js'),
  logLevel: 'warning',
});
const run = spawnSync(
  process.execPath,
  [
    runtimeCli,
    '--enable-experimental-top-level-await',
    join(out, 'checks.js'),
    join(out, 'checks.wasm'),
  ],
  { cwd: root, encoding: 'utf8' },
);
const lines = `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => /^(PASS|FAIL) /.test(l));
for (const line of lines) console.log(line);
const failed = lines.filter((l) => l.startsWith('FAIL'));
if (run.status !== 0 || lines.length === 0 || failed.length > 0) {
  if (run.status !== 0)
    console.error(
      run.stderr
        .split('\n')
        .filter((l) => !/wasm function|^\s*\d+: 0x/.test(l))
        .slice(0, 20)
        .join('\n'),
    );
  console.error(
    `in-engine checks: ${failed.length} failed, ${lines.length - failed.length} passed (engine exit ${run.status})`,
  );
  process.exit(1);
}
console.log(`in-engine checks: ${lines.length} passed, 0 failed`);
