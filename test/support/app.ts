// An in-process harness for route tests, in the style of hono's `app.request()`: requests go
// straight to `handle()` with Services held in memory, so a route test needs no socket, no port
// and no state directory. `memoryServices()` gives edge stores as Maps (seeded with Trusted
// Server's development key by `withDevKey()`), a fixed clock, counting randomness, and a log and
// an audit trail the test can read. Mutations and admin reads of the authoritative state go to
// in-memory management stores (FakeKeyStore, FakeLeaseStore) whose maps ARE the edge stores, so
// a rotation is visible to the next request, as on the local edge.
//
//   const app = testApp(memoryServices(withDevKey()));
//   const res = await app.request('/verify-signature', { json: { payload, signature, kid } });
import type { AuditRecord } from '../../src/core/ports.js';
import { sha256Hex } from '../../src/core/auth/admin-token.js';
import { resolveDeployment } from '../../src/core/deployments.js';
import { openKeyring, type Deployments } from '../../src/core/keyring/open-deployment.js';
import { MemoryRateLimiter } from '../../src/core/rate-limit/memory-rate-limiter.js';
import { parseSettings, type Settings } from '../../src/core/settings.js';
import { handle } from '../../src/http/app.js';
import { STORE_NAMES, type ClientInfo, type Services } from '../../src/http/services.js';
import { FakeKeyStore } from './fake-key-store.js';
import { parseKeyring } from '../../src/core/keyring/document.js';
import { claimKey } from '../../src/core/keyring/lease.js';
import { FakeLeaseStore } from './fake-lease-store.js';

/** `RequestInit` plus the shortcuts route tests use all the time. */
export interface AppRequestInit extends RequestInit {
  /** Sent as the JSON body (content-type set, method POST unless given). */
  json?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** The client's IP as the platform would report it. */
  ip?: string;
}

/** The app, called in-process. */
export interface TestApp {
  readonly services: Services;
  /** A request to `path` (or an absolute URL) on the app's origin. */
  request(path: string, init?: AppRequestInit): Promise<Response>;
  /** A ready-made Request, e.g. from a generator. */
  fetch(request: Request, client?: ClientInfo): Promise<Response>;
}

/** Wraps `handle()`; `origin` is what the app sees as its own URL. */
export function testApp(
  services: Services,
  options: { origin?: string; ip?: string } = {},
): TestApp {
  const origin = options.origin ?? 'https://keys.publisher.example';
  const defaultIp = options.ip ?? '192.0.2.1';
  return {
    services,
    request(path, init = {}) {
      const { json, token, ip, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
      const body = json === undefined ? rest.body : JSON.stringify(json);
      if (json !== undefined && !headers.has('content-type'))
        headers.set('content-type', 'application/json');
      const method = rest.method ?? (json === undefined ? 'GET' : 'POST');
      const url = /^https?:\/\//.test(path) ? path : `${origin}${path}`;
      return handle(new Request(url, { ...rest, method, headers, body: body ?? null }), services, {
        ip: ip ?? defaultIp,
      });
    },
    fetch(request, client = { ip: defaultIp }) {
      return handle(request, services, client);
    },
  };
}

/** Edge store contents by store name, then key. */
export type StoreContents = Record<string, Record<string, string>>;

/** What `memoryServices` is built from. */
export interface MemoryOptions {
  /** Config stores by edge name (`jwks_store`, ...). */
  config?: StoreContents;
  /** Secret stores by edge name (`signing_keys`, `admin_tokens`, `api-keys`, ...). */
  secrets?: StoreContents;
  /** Raw settings, as trusted-server.toml would give them; validated like the real ones. */
  settings?: Record<string, unknown>;
  /** Milliseconds since the epoch; the clock stands still unless the test moves `services.now`. */
  now?: number;
  /** Another management backend than the in-memory one (see `MemoryServices.keyStores`). */
  deployments?: Deployments;
}

/** Services in memory, plus handles for the test to look and change. */
export interface MemoryServices extends Services {
  /** The live store maps: change them and the next request sees it. */
  readonly config: Map<string, Map<string, string>>;
  readonly secrets: Map<string, Map<string, string>>;
  /** Every log line, as `{level, event, ...fields}`. */
  readonly logs: Array<Record<string, unknown>>;
  readonly audits: AuditRecord[];
  /** The clock's reading; assign to move time. */
  now: number;
  /**
   * The management side of each deployment opened so far, by deployment name: its `items` and
   * `secrets` are the edge maps of the deployment's config and secret store. Arm faults here.
   */
  readonly keyStores: Map<string, FakeKeyStore>;
  /** The `keyring_locks` KV store, shared by every deployment. */
  readonly leaseStore: FakeLeaseStore;
  /** The `keyring_locks` key the next change of `deployment` claims (its keyring version + 1). */
  nextClaimKey(deployment?: string): string;
}

const asMaps = (contents: StoreContents = {}): Map<string, Map<string, string>> =>
  new Map(Object.entries(contents).map(([name, items]) => [name, new Map(Object.entries(items))]));

/** The map of store `name`, created empty if absent. */
function mapOf(stores: Map<string, Map<string, string>>, name: string): Map<string, string> {
  let map = stores.get(name);
  if (!map) stores.set(name, (map = new Map()));
  return map;
}

/** In-memory Services; see the file comment. */
export function memoryServices(options: MemoryOptions = {}): MemoryServices {
  const config = asMaps(options.config);
  const secrets = asMaps(options.secrets);
  let counter = 0;
  const settings: Settings = parseSettings(
    options.settings ?? {
      publisher: { domain: 'publisher.example' },
      request_signing: {
        config_store_id: 'cfg-default',
        secret_store_id: 'sec-default',
        lock_store_id: 'kv-locks',
      },
    },
  );
  const keyStores = new Map<string, FakeKeyStore>();
  const leaseStore = new FakeLeaseStore();
  /** The deployment's fake, sharing the edge maps (created empty when the test seeded none). */
  const keyStoreOf = (name: string): FakeKeyStore => {
    const found = keyStores.get(name);
    if (found) return found;
    const deployment = resolveDeployment(settings, name);
    const store = new FakeKeyStore(
      mapOf(config, deployment.configStoreName),
      mapOf(secrets, deployment.secretStoreName),
    );
    keyStores.set(name, store);
    return store;
  };
  const memoryDeployments: Deployments = {
    async open(request) {
      return openKeyring({
        settings,
        deployment: resolveDeployment(settings, request.name),
        clock: services.clock,
        random: services.random,
        keyStore: keyStoreOf(request.name),
        ...(settings.request_signing.lock_store_id ? { leaseStore } : {}),
        holder: { holder: request.holder, requestId: request.requestId },
        // The edge's read of the private keys, as the platforms give it (activation checks it).
        privateKeys: services.secretStore(
          resolveDeployment(settings, request.name).secretStoreName,
        ),
      });
    },
  };
  const services: MemoryServices = {
    settings,
    config,
    secrets,
    keyStores,
    leaseStore,
    nextClaimKey(deployment = 'default') {
      const text = keyStoreOf(deployment).items.get('keyring');
      return claimKey(deployment, (text === undefined ? 0 : parseKeyring(text).version) + 1);
    },
    logs: [],
    audits: [],
    now: options.now ?? Date.parse('2026-11-22T09:00:00.000Z'),
    clock: { now: () => services.now },
    // Distinct, repeatable bytes: request ids and generated keys differ, runs replay.
    random: {
      bytes: (n) => Uint8Array.from({ length: n }, () => (counter = (counter * 31 + 7) & 0xff)),
    },
    configStore: (name) => ({ get: async (key) => config.get(name)?.get(key) ?? null }),
    secretStore: (name) => ({ get: async (key) => secrets.get(name)?.get(key) ?? null }),
    deployments: options.deployments ?? memoryDeployments,
    logger: { log: (level, event, fields) => void services.logs.push({ level, event, ...fields }) },
    rateLimiter: new MemoryRateLimiter({ now: () => services.now }),
    audit: { write: async (record) => void services.audits.push(record) },
  };
  return services;
}

/** Trusted Server's public development key (fastly.toml's `[local_server]`), as stored. */
export const DEV_KEY = {
  kid: 'ts-2025-10-A',
  /** The 32-byte seed, padded standard base64, as the `signing_keys` secret holds it. */
  storedSeed: 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=',
  jwk: {
    kty: 'OKP',
    crv: 'Ed25519',
    x: 'UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw',
    alg: 'EdDSA',
    kid: 'ts-2025-10-A',
  },
} as const;

/** Stores as Trusted Server's own tools leave them: the dev key, current and only published. */
export function withDevKey(extra: MemoryOptions = {}): MemoryOptions {
  return {
    ...extra,
    config: {
      ...extra.config,
      [STORE_NAMES.jwks]: {
        'current-kid': DEV_KEY.kid,
        'active-kids': DEV_KEY.kid,
        [DEV_KEY.kid]: JSON.stringify(DEV_KEY.jwk),
        ...extra.config?.[STORE_NAMES.jwks],
      },
    },
    secrets: {
      ...extra.secrets,
      [STORE_NAMES.signingKeys]: {
        [DEV_KEY.kid]: DEV_KEY.storedSeed,
        ...extra.secrets?.[STORE_NAMES.signingKeys],
      },
    },
  };
}

/** Installs an admin token `<id>.<secret>` with `role`; answers the token to send. */
export async function addAdminToken(
  services: MemoryServices,
  id: string,
  secret: string,
  role: 'viewer' | 'operator',
): Promise<string> {
  let tokens = services.secrets.get(STORE_NAMES.adminTokens);
  if (!tokens) services.secrets.set(STORE_NAMES.adminTokens, (tokens = new Map()));
  tokens.set(id, JSON.stringify({ sha256: await sha256Hex(secret), role }));
  return `${id}.${secret}`;
}

/** The operator token `operatorApp` installs (id `ops1`). */
export const OPERATOR_SECRET = 'ops1-secret-0123456789abcdef';

/** One answer of `operatorApp().send`: the body parsed as JSON (undefined when empty). */
export interface SentAnswer<T> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * In-memory services seeded with the development key (plus `options`), an operator token `ops1`,
 * the app, and `send`, which makes a request with that token and parses the answer.
 */
export async function operatorApp(options: MemoryOptions = {}) {
  const services = memoryServices(withDevKey(options));
  const token = await addAdminToken(services, 'ops1', OPERATOR_SECRET, 'operator');
  const app = testApp(services);
  async function send<T = Record<string, unknown>>(
    path: string,
    init: AppRequestInit = {},
  ): Promise<SentAnswer<T>> {
    const res = await app.request(path, { token, ...init });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }
  return { services, token, app, send };
}
