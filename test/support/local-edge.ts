// Starts a real local edge (local Fastly API + the app on Node) on free loopback ports, in a
// fresh state directory, for end-to-end tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../../src/core/settings.js';
import { FastlyApi } from '../../src/fastly-api/index.js';
import { startLocalEdge, type LocalEdge } from '../../src/platform/node/local-edge.js';
import { startComputeEdge } from '../../src/local-compute/compute-edge.js';
import { loadSettingsFile } from '../../src/platform/node/settings-file.js';
import { parseKeyring } from '../../src/core/keyring/document.js';
import { claimKey } from '../../src/core/keyring/lease.js';

/**
 * Which edge the end-to-end suites drive: the app on Node (default) or, with
 * TSK_TEST_TARGET=wasm, the built bin/main.wasm on the local Compute host (`npm run build:local` first).
 */
export const TEST_TARGET: 'node' | 'wasm' =
  process.env['TSK_TEST_TARGET'] === 'wasm' ? 'wasm' : 'node';

/** A running edge plus helpers. */
export interface TestEdge extends LocalEdge {
  stateDir: string;
  /** A management-API client on the local API, for inspecting and arranging stores. */
  client: FastlyApi;
  /** Every line the app logged. */
  logs: string[];
  /** fetch against the edge, with the admin token unless `auth: false`. */
  call(
    path: string,
    init?: RequestInit & { auth?: boolean | string; json?: unknown },
  ): Promise<Response>;
  /** Stops the edge and deletes its state unless `keepState`. */
  stop(keepState?: boolean): Promise<void>;
}

/** Starts an edge; pass `stateDir` to restart on existing state. */
export async function startTestEdge(
  options: {
    stateDir?: string;
    settingsPath?: string;
    configure?: (s: Settings) => Settings;
    /** How far the edge's config reads lag the local API (TSK_PROPAGATION_DELAY_MS). */
    propagationDelayMs?: number;
    /** The manifest whose `[local_server]` stores seed a fresh state (Node edge only). */
    fastlyTomlPath?: string;
  } = {},
): Promise<TestEdge> {
  const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'tsk-e2e-')));
  const lines: string[] = [];
  const edge =
    TEST_TARGET === 'wasm'
      ? await startWasmEdge(stateDir, lines, options)
      : await startLocalEdge({
          stateDir,
          edgePort: 0,
          apiPort: 0,
          echoAudit: false,
          logger: {
            log: (level, event, fields) =>
              void lines.push(JSON.stringify({ level, event, ...fields })),
          },
          ...(options.configure ? { configure: options.configure } : {}),
          ...(options.settingsPath ? { settingsPath: options.settingsPath } : {}),
          ...(options.propagationDelayMs !== undefined
            ? { propagationDelayMs: options.propagationDelayMs }
            : {}),
          ...(options.fastlyTomlPath ? { fastlyTomlPath: options.fastlyTomlPath } : {}),
        });
  const connection = {
    endpoint: edge.apiUrl,
    token: edge.api.token,
    fetch: (r: Request) => fetch(r),
    timeoutMs: 5000,
  };
  // The local API's own client-key signing key, which the edge (Node or wasm) trusts too.
  const client = new FastlyApi({
    ...connection,
    secretSigningKey:
      edge.settings.fastly_api.secret_signing_key ??
      (await new FastlyApi(connection).getSecretSigningKey()),
  });
  return {
    ...edge,
    stateDir,
    client,
    logs: lines,
    call(path, init = {}) {
      const { auth = true, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (auth !== false)
        headers.set('authorization', `Bearer ${typeof auth === 'string' ? auth : edge.adminToken}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return fetch(`${edge.edgeUrl}${path}`, {
        ...rest,
        headers,
        ...(json !== undefined
          ? { body: JSON.stringify(json), method: rest.method ?? 'POST' }
          : {}),
      });
    },
    async stop(keepState = false) {
      await edge.close();
      if (!keepState) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

const WASM_SETTINGS =
  'the wasm edge runs the settings built into bin/main.wasm; skip this test on TSK_TEST_TARGET=wasm';

/**
 * The wasm edge. Its settings are the ones built into bin/main.wasm, so a test that changes them
 * (`configure`, `settingsPath`) cannot run on it (such tests skip themselves on this target), with
 * one exception below.
 */
async function startWasmEdge(
  stateDir: string,
  lines: string[],
  options: {
    settingsPath?: string;
    configure?: (s: Settings) => Settings;
    propagationDelayMs?: number;
  },
): Promise<LocalEdge> {
  let erl: 'memory' | 'off' = 'memory';
  if (options.settingsPath) throw new Error(WASM_SETTINGS);
  if (options.configure) {
    // One change can be honoured: admin limits raised out of the way, which is the host's rate
    // limiter switched off. Anything else needs a wasm built with those settings.
    const built = await loadSettingsFile('trusted-server.toml');
    const { admin, ...rest } = options.configure(built);
    const { admin: builtAdmin, ...builtRest } = built;
    const limitsOnly =
      JSON.stringify(rest) === JSON.stringify(builtRest) &&
      admin.requests_per_minute >= 10_000 &&
      admin.auth_failures_per_minute >= 10_000 &&
      admin.audit_log_endpoint === builtAdmin.audit_log_endpoint;
    if (!limitsOnly) throw new Error(WASM_SETTINGS);
    erl = 'off';
  }
  const edge = await startComputeEdge({
    erl,
    stateDir,
    edgePort: 0,
    apiPort: 0,
    echoAudit: false,
    // The guest logs one JSON object a line on stdout, as the Node edge's logger does.
    stdout: (line) => void lines.push(line),
    hostLog: (line) => void lines.push(line),
    ...(options.propagationDelayMs !== undefined
      ? { propagationDelayMs: options.propagationDelayMs }
      : {}),
  });
  return edge;
}

/**
 * The `keyring_locks` key the next change of `deployment` claims: the version after the stored
 * keyring's (docs/architecture.md, "Concurrency: claims on keyring versions").
 */
export async function nextClaimKey(edge: TestEdge, deployment = 'default'): Promise<string> {
  const items = await edge.client.listConfigItems(edge.stores.jwksStoreId);
  const keyring = items.find((i) => i.key === 'keyring')?.value;
  return claimKey(deployment, (keyring === undefined ? 0 : parseKeyring(keyring).version) + 1);
}
