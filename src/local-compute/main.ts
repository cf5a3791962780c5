// `npm run serve` and `fastly compute serve --viceroy-path cli/compute-host.mjs`: bin/main.wasm on
// the Compute host, with the local Fastly API beside it. Accepts Viceroy's arguments.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ignoredSettingsLine } from '../core/settings.js';
import { startComputeEdge } from './compute-edge.js';
import { stopOnSignals } from '../platform/node/stop-on-signals.js';

/** Viceroy's command line, as far as this host uses it. */
export interface HostArgs {
  wasm: string;
  manifest: string | undefined;
  addr: { host: string; port: number } | undefined;
  verbose: boolean;
  /** `npm run serve`: rebuild the wasm first when a source is newer (not a Viceroy flag). */
  buildIfStale: boolean;
  /** Flags Viceroy has that this host ignores (reported, not fatal). */
  ignored: string[];
}

/** Parses `[-v] [-C fastly.toml] [--addr HOST:PORT] [wasm]`; throws a usage error. */
export function parseHostArgs(argv: readonly string[]): HostArgs {
  const out: HostArgs = {
    wasm: 'bin/main.wasm',
    manifest: undefined,
    addr: undefined,
    verbose: false,
    buildIfStale: false,
    ignored: [],
  };
  let wasmSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = (): string => {
      const inline = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : undefined;
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (/^-v+$/.test(arg) || arg === '--verbose') out.verbose = true;
    else if (arg === '-C' || arg.startsWith('--config')) out.manifest = value();
    else if (arg.startsWith('--addr')) out.addr = parseAddr(value());
    else if (arg === '--build-if-stale') out.buildIfStale = true;
    else if (arg === '-h' || arg === '--help') throw new UsageError('');
    else if (arg.startsWith('-')) out.ignored.push(arg);
    else if (wasmSeen) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    else {
      out.wasm = arg;
      wasmSeen = true;
    }
  }
  return out;
}

export class UsageError extends Error {}

function parseAddr(text: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (!match || !match[1] || port > 65535)
    throw new UsageError(`--addr must be HOST:PORT, not ${JSON.stringify(text)}`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

/** True if the wasm is missing or older than a file the build reads. */
export function isStale(wasm: string, root: string): boolean {
  let built: number;
  try {
    built = statSync(wasm).mtimeMs;
  } catch {
    return true;
  }
  const inputs = ['trusted-server.toml', 'package-lock.json'].map((f) => join(root, f));
  // The Compute host itself is not part of the wasm.
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'local-compute') walk(path);
      } else inputs.push(path);
    }
  };
  walk(join(root, 'src'));
  return inputs.some((path) => {
    try {
      return statSync(path).mtimeMs > built;
    } catch {
      return false;
    }
  });
}

function envPort(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${name} must be a port number (0-65535), not ${JSON.stringify(raw)}`);
  return n;
}

const USAGE = `usage: compute-host [-v] [-C fastly.toml] [--addr HOST:PORT] [bin/main.wasm]
Serves a Fastly Compute wasm on Node with the local Fastly API (Viceroy-compatible arguments).
Environment: TSK_STATE_DIR (default .fastly-local), TSK_EDGE_PORT, TSK_API_PORT (default 7677).`;

export async function main(argv: readonly string[]): Promise<void> {
  const args = parseHostArgs(argv);
  const manifest = resolve(args.manifest ?? 'fastly.toml');
  const root = dirname(manifest);
  const stateDir = resolve(root, process.env['TSK_STATE_DIR'] || '.fastly-local');
  if (args.buildIfStale && isStale(resolve(args.wasm), root)) {
    // The local target: the repository's placeholder ids are mapped to the local stores here, so
    // the production build's refusal of them does not apply.
    process.stdout.write(
      `${args.wasm} is missing or older than its sources: npm run build:local\n`,
    );
    const built = spawnSync('npm', ['run', 'build:local'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build:local failed');
  }
  const settingsPath = join(root, 'trusted-server.toml');
  const edge = await startComputeEdge({
    stateDir,
    wasmPath: resolve(args.wasm),
    fastlyTomlPath: manifest,
    settingsPath,
    host: args.addr?.host ?? '127.0.0.1',
    edgePort: envPort('TSK_EDGE_PORT') ?? args.addr?.port ?? 7676,
    apiPort: envPort('TSK_API_PORT') ?? 7677,
  });
  const shown = (path: string): string => {
    const rel = relative(process.cwd(), path);
    return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  };
  const tokenFile = shown(edge.adminTokenFile);
  const ignored = ignoredSettingsLine(shown(settingsPath), edge.ignoredSettings);
  process.stdout.write(
    [
      `trusted-server-keys: ${shown(resolve(args.wasm))} on the local Compute host`,
      ...(ignored ? [`  ${ignored}`] : []),
      `  edge (the wasm):       ${edge.edgeUrl}`,
      `  local Fastly API:      ${edge.apiUrl}   (token in ${shown(edge.apiTokenFile)})`,
      `  admin token (operator) in ${tokenFile}`,
      ...(args.ignored.length > 0 ? [`  ignored options: ${args.ignored.join(' ')}`] : []),
      '',
      'Try:',
      `  curl -s ${edge.edgeUrl}/.well-known/trusted-server.json`,
      `  curl -s -X POST ${edge.edgeUrl}/admin/keys/rotate -H "Authorization: Bearer $(cat ${tokenFile})" -H 'Content-Type: application/json' -d '{}'`,
      '',
      `Ctrl-C stops it; state stays in ${shown(stateDir)}/.`,
      '',
    ].join('\n'),
  );
  stopOnSignals(() => edge.close());
}

/** Runs `main`, turning failures into a message and an exit code (2: usage, 1: could not start). */
export async function run(argv: readonly string[]): Promise<void> {
  try {
    await main(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) console.error(`compute-host: ${err.message}`);
      console.error(USAGE);
      process.exit(err.message ? 2 : 0);
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`compute-host: could not start: ${message}`);
    if (/EADDRINUSE/.test(message))
      console.error('  a port is taken: set TSK_EDGE_PORT / TSK_API_PORT to free ones');
    if (/ENOENT.*\.wasm/.test(message)) console.error('  build it first: npm run build:local');
    process.exit(1);
  }
}
