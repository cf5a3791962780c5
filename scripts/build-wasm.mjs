// `npm run build`: trusted-server.toml → validated settings → one esbuild bundle of the Fastly
// entry with the settings embedded → bin/main.wasm through js-compute-runtime. Any failure exits
// non-zero. Nothing but the settings object is embedded: no environment, no local state.
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parse } from 'smol-toml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The esbuild that @fastly/js-compute depends on, so its version matches the runtime's own bundler.
const jsCompute = createRequire(import.meta.url).resolve('@fastly/js-compute');
const esbuild = createRequire(jsCompute)('esbuild');
const runtimeCli = join(dirname(jsCompute), 'cli', 'js-compute-runtime-cli.js');

const SETTINGS_FILE = 'trusted-server.toml';
const ENTRY = 'src/platform/fastly/index.ts';
const BUNDLE = 'build/index.js';
const WASM = 'bin/main.wasm';

class BuildError extends Error {}

/** Reads a TOML file of the repository, naming it in any parse error. */
function readToml(file) {
  try {
    return parse(readFileSync(join(root, file), 'utf8'));
  } catch (err) {
    throw new BuildError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Paths of `raw` that the schema dropped: typos, or values that do not belong in the build. */
function unknownKeys(raw, parsed, prefix = '') {
  const found = [];
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix + key;
    if (!(key in parsed)) found.push(path);
    else if (isTable(value) && isTable(parsed[key]))
      found.push(...unknownKeys(value, parsed[key], `${path}.`));
  }
  return found;
}

function isTable(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The settings as the edge will see them, validated by the app's own schema (src/core/settings.ts). */
async function loadSettings() {
  const raw = readToml(SETTINGS_FILE);
  const out = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/core/settings.ts'],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  const code = Buffer.from(out.outputFiles[0].contents).toString('base64');
  const { parseSettings } = await import(`data:text/javascript;base64,${code}`);
  let settings;
  try {
    settings = parseSettings(raw);
  } catch (err) {
    throw new BuildError(err instanceof Error ? err.message : String(err));
  }
  // The schema silently drops unknown keys; refuse them instead, so nothing unexpected (a token
  // pasted into the wrong file, say) is ever embedded, and typos do not pass unnoticed.
  const unknown = unknownKeys(raw, settings);
  if (unknown.length > 0) {
    throw new BuildError(
      `${SETTINGS_FILE}: unknown settings ${unknown.join(', ')}. It must hold store ids and the ` +
        'publisher domain only; secrets belong in secret stores.',
    );
  }
  return settings;
}

/** Secret values `fastly.toml` gives the local server; none of them may reach the bundle. */
function localSecretValues() {
  const manifest = readToml('fastly.toml');
  const stores = manifest.local_server?.secret_stores ?? {};
  const values = [];
  for (const entries of Object.values(stores)) {
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (typeof entry.data === 'string') values.push(entry.data);
      if (typeof entry.env === 'string' && process.env[entry.env])
        values.push(process.env[entry.env]);
    }
  }
  // Short values (placeholders) would match by accident and prove nothing.
  return values.filter((v) => v.length >= 16);
}

async function main() {
  const settings = await loadSettings();

  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    format: 'esm',
    // What js-compute-runtime's own bundling step uses, so packages resolve the same way.
    platform: 'browser',
    conditions: ['fastly'],
    external: ['fastly:*'],
    define: { __TSK_SETTINGS__: JSON.stringify(settings) },
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  // Only the sources and packages may be bundled (never .fastly-local/ or other local files);
  // `<define:...>` is the embedded settings object itself.
  const strays = Object.keys(result.metafile.inputs).filter(
    (p) => !/^(src\/|node_modules\/|<define:__TSK_SETTINGS__>$)/.test(p),
  );
  if (strays.length > 0) throw new BuildError(`unexpected bundle inputs: ${strays.join(', ')}`);
  mkdirSync(join(root, 'build'), { recursive: true });
  writeFileSync(join(root, BUNDLE), result.outputFiles[0].contents);

  mkdirSync(join(root, 'bin'), { recursive: true });
  const run = spawnSync(process.execPath, [runtimeCli, BUNDLE, WASM], {
    cwd: root,
    stdio: 'inherit',
  });
  if (run.error) throw run.error;
  if (run.status !== 0) {
    throw new BuildError(`js-compute-runtime failed (${run.signal ?? `exit ${run.status}`})`);
  }

  const bundle = readFileSync(join(root, BUNDLE));
  const wasm = readFileSync(join(root, WASM));
  for (const secret of localSecretValues()) {
    if (bundle.includes(secret) || wasm.includes(secret)) {
      throw new BuildError('a local secret from fastly.toml ended up in the build; refusing it');
    }
  }

  const bytes = statSync(join(root, WASM)).size;
  const size = `${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes.toLocaleString('en')} bytes)`;
  process.stdout.write(`${WASM}: ${size}\n`);
}

main().catch((err) => {
  const why = err instanceof BuildError ? err.message : (err?.stack ?? String(err));
  process.stderr.write(`build failed: ${why}\n`);
  process.exit(1);
});
