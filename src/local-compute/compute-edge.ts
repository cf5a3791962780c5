// The wasm edge as one object: the local Fastly API (provisioned and seeded exactly as `npm start`
// does), and bin/main.wasm on the Compute host in front of it. The stores the local API manages
// are live views of its state, so a rotation is visible to the next request; other stores and the
// backends come from fastly.toml's [local_server], as in Viceroy.
import { appendFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import type { Settings } from '../core/settings.js';
import {
  StateDirInUseError,
  startLocalApi,
  updateClaim,
  type LocalApi,
} from '../local-api/index.js';
import { readLocalSeed, type LocalSeed } from '../platform/node/fastly-toml.js';
import { provisionLocalStack } from '../platform/node/local-stack.js';
import type { ProvisionedStores } from '../platform/node/provision.js';
import { readSettingsFile } from '../platform/node/settings-file.js';
import { attachLocalApi } from './attached-api.js';
import { ComputeHost, type HostLimits, type HostOutput, type HostResources } from './host.js';
import { startComputeServer } from './http-server.js';
import type { BackendRequest } from './protocol.js';

export interface ComputeEdgeOptions {
  stateDir: string;
  wasmPath?: string;
  host?: string;
  edgePort?: number;
  apiPort?: number;
  settingsPath?: string;
  fastlyTomlPath?: string;
  /** Receives the guest's stdout lines (its JSON logs); default: process stdout. */
  stdout?: (line: string) => void;
  /** Receives the host's own lines (traps, limits); default: process stderr. */
  hostLog?: (line: string) => void;
  /** Echo audit lines on stdout as well as in the audit file; default true. */
  echoAudit?: boolean;
  limits?: Partial<HostLimits>;
  workers?: { min?: number; max?: number };
  /** See ComputeHostOptions.erl. */
  erl?: 'memory' | 'off';
  /** Called on every config-store read the guest makes (the benchmark counts hot-path reads). */
  onConfigRead?: (store: string, key: string) => void;
  /**
   * How far the guest's config reads lag the local API; default TSK_PROPAGATION_DELAY_MS or 0.
   * Only when this host starts the local API: one it attaches to keeps no history to lag behind.
   */
  propagationDelayMs?: number;
}

export interface ComputeEdge {
  edgeUrl: string;
  apiUrl: string;
  adminToken: string;
  adminTokenFile: string;
  apiTokenFile: string;
  auditFile: string;
  api: LocalApi;
  stores: ProvisionedStores;
  /** The settings the wasm was built with (trusted-server.toml), not pointed at local ids. */
  settings: Settings;
  /** What of the settings file this service left alone (Trusted Server's sections and keys). */
  ignoredSettings: string[];
  compute: ComputeHost;
  close(): Promise<void>;
}

/** Starts the local API and the wasm on the host; provisions and seeds stores on first start. */
export async function startComputeEdge(options: ComputeEdgeOptions): Promise<ComputeEdge> {
  const host = options.host ?? '127.0.0.1';
  const tomlPath = options.fastlyTomlPath ?? 'fastly.toml';
  const { settings, ignored } = await readSettingsFile(
    options.settingsPath ?? 'trusted-server.toml',
  );
  const seed = await readLocalSeed(tomlPath);
  const backends = await readBackends(tomlPath);
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const api = await startOrAttachApi(
    options.stateDir,
    host,
    options.apiPort ?? 7677,
    options.propagationDelayMs,
  );
  let compute: ComputeHost | undefined;
  try {
    const { stores, secretSigningKey, credential, adminTokenFile } = await provisionLocalStack(
      api,
      { stateDir: options.stateDir, settings, seed },
    );

    const auditFile = join(options.stateDir, 'audit.log');
    const stdout = options.stdout ?? ((line: string) => void process.stdout.write(`${line}\n`));
    const hostLog = options.hostLog ?? ((line: string) => void process.stderr.write(`${line}\n`));
    const echo = options.echoAudit !== false;
    const output: HostOutput = {
      stdout: (line) => stdout(line),
      log(endpoint, line) {
        if (endpoint !== settings.admin.audit_log_endpoint) {
          // Viceroy prints log-endpoint lines on stdout prefixed with the endpoint name.
          stdout(`${endpoint} :: ${line}`);
          return;
        }
        if (echo) process.stdout.write(`${line}\n`);
        // Written before the next message from the guest is handled, so the line is in the file
        // before the response's head is sent (as on the Node edge, where the app awaits it).
        try {
          appendFileSync(auditFile, `${line}\n`, { mode: 0o600 });
        } catch (err) {
          // A lost audit line must be visible, but never takes the host down.
          hostLog(
            JSON.stringify({
              time: new Date().toISOString(),
              level: 'error',
              event: 'audit_write_failed',
              error: err instanceof Error ? err.message : String(err),
            }),
          );
        }
      },
      host: (event, fields) =>
        hostLog(
          JSON.stringify({ time: new Date().toISOString(), level: 'error', event, ...fields }),
        ),
    };

    const state = api.state;
    const idMap = storeIdMap(settings, stores);
    const resources: HostResources = {
      configStore(name) {
        const live = state.findConfigStore(name);
        if (live)
          return {
            get: (key) => {
              options.onConfigRead?.(name, key);
              return state.edgeConfigItem(live.id, key);
            },
          };
        const fixed = seed.configStores.get(name);
        return fixed ? { get: (key) => fixed.get(key) ?? null } : undefined;
      },
      secretStore(name) {
        const live = state.findSecretStore(name);
        if (live) return { get: (key) => state.secretPlaintext(live.id, key) };
        const fixed = seed.secretStores.get(name);
        return fixed
          ? {
              get: (key) => {
                const value = fixed.get(key);
                return value === undefined ? null : new TextEncoder().encode(value);
              },
            }
          : undefined;
      },
      kvStoreExists: (name) =>
        state.findKvStore(name) !== undefined || seed.kvStores.includes(name),
      backend(name) {
        // The management API backend is the local API this host started, on whatever port.
        if (name === settings.fastly_api.backend) return api.url;
        return backends.get(name);
      },
      rewrite: (request) => rewriteStoreIds(request, settings.fastly_api.backend, idMap),
    };
    compute = await ComputeHost.start({
      wasmPath: options.wasmPath ?? 'bin/main.wasm',
      resources,
      output,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.workers ? { workers: options.workers } : {}),
      ...(options.erl ? { erl: options.erl } : {}),
      env: { TSK_SECRET_SIGNING_KEY: secretSigningKey },
    });
    const server = await startComputeServer(compute, host, options.edgePort ?? 7676);
    // Tools find the running edge from the state directory alone (tsctl token --local).
    updateClaim(options.stateDir, { edge_url: server.url });
    const running = compute;
    return {
      edgeUrl: server.url,
      apiUrl: api.url,
      adminToken: `${credential.id}.${credential.secret}`,
      adminTokenFile,
      apiTokenFile: join(options.stateDir, 'fastly-api-token'),
      auditFile,
      api,
      stores,
      settings,
      ignoredSettings: ignored,
      compute: running,
      close: async () => {
        await server.close();
        await running.close();
        await api.close();
      },
    };
  } catch (err) {
    await compute?.close();
    await api.close();
    throw err;
  }
}

/** Starts the local API, or uses the one already serving this state folder on that port. */
async function startOrAttachApi(
  stateDir: string,
  host: string,
  port: number,
  propagationDelayMs: number | undefined,
): Promise<LocalApi> {
  try {
    return await startLocalApi({
      stateDir,
      host,
      port,
      ...(propagationDelayMs !== undefined ? { propagationDelayMs } : {}),
    });
  } catch (err) {
    // `npm start` already serves this folder: use its API, wherever it listens (only one API
    // may own a folder; an attached host writes through it and reads its state file).
    const holder = err instanceof StateDirInUseError ? err.holder.api_url : undefined;
    if (holder !== undefined) {
      const url = new URL(holder);
      const attached = await attachLocalApi(
        stateDir,
        url.hostname.replace(/^\[|\]$/g, ''),
        Number(url.port),
      );
      if (!attached) throw err;
      return attached;
    }
    // The local API reports a taken port in its message (it wraps the listen error).
    if (!/EADDRINUSE/.test(err instanceof Error ? err.message : String(err))) throw err;
    const attached = await attachLocalApi(stateDir, host, port);
    if (!attached) throw err;
    return attached;
  }
}

/** `[local_server.backends]` of fastly.toml: name → URL. */
export async function readBackends(path: string): Promise<Map<string, string>> {
  const doc = parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const local = (doc['local_server'] ?? {}) as Record<string, unknown>;
  const backends = (local['backends'] ?? {}) as Record<string, unknown>;
  const out = new Map<string, string>();
  for (const [name, spec] of Object.entries(backends)) {
    const url = (spec as Record<string, unknown> | null)?.['url'];
    if (typeof url !== 'string' || !URL.canParse(url))
      throw new Error(`${path}: local_server.backends.${name} needs a url`);
    out.set(name, url);
  }
  return out;
}

/**
 * The wasm carries the store ids of trusted-server.toml (placeholders until deployment); the local
 * API gave its stores its own ids. Requests to the management API name stores by id, so the host
 * maps the built-in ids to the local ones on the way, as the Node edge does by rewriting settings.
 */
export function storeIdMap(settings: Settings, stores: ProvisionedStores): Map<string, string> {
  const map = new Map<string, string>();
  const rs = settings.request_signing;
  map.set(rs.config_store_id, stores.jwksStoreId);
  map.set(rs.secret_store_id, stores.signingKeysStoreId);
  // The lock store id is optional in the settings (no leases without it).
  if (rs.lock_store_id) map.set(rs.lock_store_id, stores.locksStoreId);
  for (const d of Object.values(settings.deployments)) {
    const c = stores.configIds.get(d.config_store);
    const s = stores.secretIds.get(d.secret_store);
    if (c) map.set(d.config_store_id, c);
    if (s) map.set(d.secret_store_id, s);
  }
  for (const [from, to] of [...map]) if (from === to) map.delete(from);
  return map;
}

export function rewriteStoreIds(
  request: BackendRequest,
  backend: string,
  ids: ReadonlyMap<string, string>,
): BackendRequest {
  if (request.backend !== backend || ids.size === 0) return request;
  let url: URL;
  try {
    url = new URL(request.uri);
  } catch {
    return request;
  }
  const path = url.pathname
    .split('/')
    .map((segment) => ids.get(segment) ?? segment)
    .join('/');
  url.pathname = path;
  return { ...request, uri: url.href };
}

export type { LocalSeed };
