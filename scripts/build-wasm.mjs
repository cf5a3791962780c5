// `npm run build`: trusted-server.toml → validated settings → one esbuild bundle of the Fastly
// entry with the settings embedded → bin/main.wasm through js-compute-runtime. Any failure exits
// non-zero. Nothing but the settings object is embedded: no environment, no local state.
// `npm run build` is the production target (placeholders refused); `npm run build:local` is the
// one for the local Compute host, the parity tests and CI.
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
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
/** Printed by the entry's build-time warm-up when it fails, and when it is done (src/http/warm-up.ts). */
const WARM_UP_FAILED = 'TSK_WARM_UP_FAILED';
const WARM_UP_DONE = 'TSK_WARM_UP_DONE';

class BuildError extends Error {}

/** Reads a TOML file of the repository, naming it in any parse error. */
function readToml(file) {
  try {
    return parse(readFileSync(join(root, file), 'utf8'));
  } catch (err) {
    throw new BuildError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The settings as the edge will see them, through the very function `npm start` uses
 * (readSettingsFile in src/platform/node/settings-file.ts, bundled for this process): the same
 * file gets the same answer and the same message on both paths. What it does not use (Trusted
 * Server's sections) is dropped from the result, so it is never embedded, and listed once here.
 */
async function loadSettings(options) {
  const out = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/platform/node/settings-file.ts'],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    logLevel: 'silent',
  });
  const code = Buffer.from(out.outputFiles[0].contents).toString('base64');
  const { readSettingsFile, ignoredSettingsLine } = await import(
    `data:text/javascript;base64,${code}`
  );
  let checked;
  try {
    checked = await readSettingsFile(options.settings, { target: options.target });
  } catch (err) {
    throw new BuildError(err instanceof Error ? err.message : String(err));
  }
  const line = ignoredSettingsLine(options.settings, checked.ignored);
  if (line) process.stdout.write(`${line}\n`);
  return checked.settings;
}

const USAGE = `usage: node scripts/build-wasm.mjs [--target production|local] [--settings FILE] [--out DIR] [--check]
  --target production  (default; npm run build, and fastly compute build/publish through fastly.toml)
                       refuses placeholder store ids and domains: this build is the one that ships
  --target local       (npm run build:local) for npm run serve, test:wasm and CI, with the
                       repository's placeholder ids (the local Compute host maps them to its stores)
  --settings FILE      another settings file (default trusted-server.toml)
  --out DIR            write DIR/build/index.js and DIR/bin/main.wasm (default: this repository)
  --check              validate the settings for the target and stop (no bundle, no wasm)`;

/** The command line; a usage error exits 2. */
function parseArgs(argv) {
  const options = {
    target: 'production',
    settings: relative(process.cwd(), join(root, SETTINGS_FILE)) || SETTINGS_FILE,
    check: false,
    out: root,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (arg.includes('=')) return arg.slice(arg.indexOf('=') + 1);
      const next = argv[++i];
      if (next === undefined) usage(`${arg} needs a value`);
      return next;
    };
    if (arg === '--check') options.check = true;
    else if (arg === '--target' || arg.startsWith('--target=')) options.target = value();
    else if (arg === '--settings' || arg.startsWith('--settings=')) options.settings = value();
    else if (arg === '--out' || arg.startsWith('--out=')) options.out = resolve(value());
    else if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (options.target !== 'production' && options.target !== 'local') {
    usage(`--target must be production or local, not ${JSON.stringify(options.target)}`);
  }
  return options;
}

function usage(message) {
  process.stderr.write(`build-wasm: ${message}\n${USAGE}\n`);
  process.exit(2);
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
  const options = parseArgs(process.argv.slice(2));
  const settings = await loadSettings(options);
  if (options.check) {
    process.stdout.write(`${options.settings}: settings ok for a ${options.target} build\n`);
    return;
  }

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
    // The wasm holds the engine's heap after the bundle's top level ran: the source text and the
    // compiled code of every function, so each byte of bundle costs several of wasm. Minified:
    // 337 → 177 KB of bundle, 15.8–16.2 → 15.5 MB of wasm (docs/performance.md). Without
    // `keepNames` (which costs 0.27 MB more): nothing here reads a function's or class's name
    // (errors set theirs explicitly; the libraries compare only built-in constructors' names).
    minify: true,
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
  const out = options.out;
  mkdirSync(join(out, 'build'), { recursive: true });
  writeFileSync(join(out, BUNDLE), result.outputFiles[0].contents);

  mkdirSync(join(out, 'bin'), { recursive: true });
  // stdout is read: the entry's build-time warm-up (src/http/warm-up.ts) prints WARM_UP_DONE there
  // when it finished and WARM_UP_FAILED if it failed; a wasm without its warm-up must not ship.
  const run = spawnSync(process.execPath, [runtimeCli, join(out, BUNDLE), join(out, WASM)], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (run.error) throw run.error;
  process.stdout.write(run.stdout ?? '');
  if (run.status !== 0) {
    throw new BuildError(`js-compute-runtime failed (${run.signal ?? `exit ${run.status}`})`);
  }
  const lines = (run.stdout ?? '').split('\n');
  const warmUpFailure = lines.find((l) => l.startsWith(WARM_UP_FAILED));
  if (warmUpFailure) throw new BuildError(`the build-time warm-up failed: ${warmUpFailure}`);
  if (!lines.some((l) => l.startsWith(WARM_UP_DONE))) {
    throw new BuildError('the build-time warm-up did not finish before the snapshot');
  }

  const bundle = readFileSync(join(out, BUNDLE));
  const wasm = readFileSync(join(out, WASM));
  for (const secret of localSecretValues()) {
    if (bundle.includes(secret) || wasm.includes(secret)) {
      throw new BuildError('a local secret from fastly.toml ended up in the build; refusing it');
    }
  }

  const bytes = statSync(join(out, WASM)).size;
  const size = `${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes.toLocaleString('en')} bytes)`;
  process.stdout.write(`${relative(process.cwd(), join(out, WASM)) || WASM}: ${size}\n`);
}

main().catch((err) => {
  const why = err instanceof BuildError ? err.message : (err?.stack ?? String(err));
  process.stderr.write(`build failed: ${why}\n`);
  process.exit(1);
});
