// The parts of the Compute runtime the entry uses as globals: `addEventListener('fetch')`, `fetch`
// with a `backend` option, and the `__TSK_SETTINGS__` constant the build defines.
import { vi } from 'vitest';
import { configStoreCalls, configStores } from './fastly-config-store.js';
import { secretStoreCalls, secretStores } from './fastly-secret-store.js';

/** What the entry's listener receives, as Fastly's FetchEvent. */
export interface FakeFetchEvent {
  readonly request: Request;
  readonly client: { readonly address: string };
  respondWith(response: Response | PromiseLike<Response>): void;
}

type Listener = (event: FakeFetchEvent) => void;

/** The settings trusted-server.toml holds, as the build embeds them. */
export const DEV_SETTINGS = {
  publisher: { domain: 'publisher.example' },
  request_signing: {
    config_store_id: 'REPLACE_WITH_JWKS_STORE_ID',
    secret_store_id: 'REPLACE_WITH_SIGNING_KEYS_STORE_ID',
    lock_store_id: 'REPLACE_WITH_KEYRING_LOCKS_STORE_ID',
    key_lifetime_days: 90,
  },
  fastly_api: { endpoint: 'https://api.fastly.com', backend: 'fastly_api', timeout_ms: 15000 },
};

/** Trusted Server's public test vector (never a production key), as fastly.toml seeds it. */
export const DEV_KID = 'ts-2025-10-A';
export const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';
export const DEV_JWK =
  '{"kty":"OKP","crv":"Ed25519","x":"UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw","alg":"EdDSA","kid":"ts-2025-10-A"}';

/** Everything the fake runtime recorded. */
export const runtime = {
  listeners: [] as { type: string; listener: Listener }[],
  fetches: [] as { request: Request; init: unknown }[],
};

/** Installs the runtime globals and the dev stores, and zeroes every counter. */
export function installRuntime(settings: unknown = DEV_SETTINGS): void {
  runtime.listeners.length = 0;
  runtime.fetches.length = 0;
  vi.stubGlobal('__TSK_SETTINGS__', settings);
  vi.stubGlobal('addEventListener', (type: string, listener: Listener) => {
    runtime.listeners.push({ type, listener });
  });
  vi.stubGlobal('fetch', async (request: Request, init?: unknown) => {
    runtime.fetches.push({ request, init });
    return Response.json({ ok: true });
  });
  configStores.clear();
  secretStores.clear();
  configStores.set(
    'jwks_store',
    new Map([
      ['current-kid', DEV_KID],
      ['active-kids', DEV_KID],
      [DEV_KID, DEV_JWK],
    ]),
  );
  secretStores.set('signing_keys', new Map([[DEV_KID, DEV_SEED]]));
  resetCounters();
}

/** Zeroes the store fakes' counters. */
export function resetCounters(): void {
  Object.assign(configStoreCalls, { opened: 0, gets: 0 });
  Object.assign(secretStoreCalls, { opened: 0, gets: 0 });
}

/** Runs one request through the registered fetch listener, as the runtime would. */
export async function dispatch(request: Request, clientAddress = '192.0.2.10'): Promise<Response> {
  const registered = runtime.listeners.filter((l) => l.type === 'fetch');
  if (registered.length !== 1) throw new Error(`${registered.length} fetch listeners registered`);
  let answer: Promise<Response> | undefined;
  registered[0]?.listener({
    request,
    client: { address: clientAddress },
    respondWith(response) {
      answer = Promise.resolve(response);
    },
  });
  // Fastly requires respondWith during the dispatch itself, not later.
  if (!answer) throw new Error('the listener did not call respondWith synchronously');
  return answer;
}
