// First-start provisioning of the local Fastly API, through the management API itself (the same
// requests an operator would make against Fastly): create the stores the app reads, seed new ones
// from fastly.toml, install the Fastly API token and the local admin token.
import { tokenRecord } from '../../core/auth/admin-token.js';
import type { FastlyApi } from '../../fastly-api/index.js';
import { API_KEY_SECRET, STORE_NAMES } from '../../core/deployments.js';
import type { LocalSeed } from './fastly-toml.js';

/** Management-API ids of the stores the app uses. */
export interface ProvisionedStores {
  jwksStoreId: string;
  signingKeysStoreId: string;
  apiKeysStoreId: string;
  adminTokensStoreId: string;
  locksStoreId: string;
  /** Ids of every config and secret store, by edge name. */
  configIds: ReadonlyMap<string, string>;
  secretIds: ReadonlyMap<string, string>;
  /** Stores created (and seeded) by this call. */
  created: string[];
}

/** Makes sure every store exists; only stores created now are seeded, so state is never overwritten. */
export async function provisionStores(
  api: FastlyApi,
  seed: LocalSeed,
  extra: { configStores: string[]; secretStores: string[] } = {
    configStores: [],
    secretStores: [],
  },
): Promise<ProvisionedStores> {
  const created: string[] = [];
  const configIds = new Map<string, string>();
  const secretIds = new Map<string, string>();

  const configNames = new Set([
    STORE_NAMES.jwks,
    ...seed.configStores.keys(),
    ...extra.configStores,
  ]);
  for (const name of configNames) {
    const [existing] = await api.listConfigStores(name);
    if (existing) {
      configIds.set(name, existing.id);
      continue;
    }
    const store = await api.createConfigStore(name);
    configIds.set(name, store.id);
    created.push(`config store ${name}`);
    const items = [...(seed.configStores.get(name) ?? [])];
    if (items.length > 0) {
      await api.bulkUpdateConfigItems(
        store.id,
        items.map(([key, value]) => ({ op: 'create' as const, key, value })),
      );
    }
  }

  const secretNames = new Set([
    STORE_NAMES.signingKeys,
    STORE_NAMES.apiKeys,
    STORE_NAMES.adminTokens,
    ...seed.secretStores.keys(),
    ...extra.secretStores,
  ]);
  for (const name of secretNames) {
    const existing = (await api.listSecretStores(name)).find((s) => s.name === name);
    if (existing) {
      secretIds.set(name, existing.id);
      continue;
    }
    const store = await api.createSecretStore(name);
    secretIds.set(name, store.id);
    created.push(`secret store ${name}`);
    for (const [key, value] of seed.secretStores.get(name) ?? []) {
      // The API token is installed below from the running local API, not from the manifest.
      if (name === STORE_NAMES.apiKeys && key === API_KEY_SECRET) continue;
      await api.putSecret(store.id, key, value, 'create');
    }
  }

  const kvStores = await api.listKvStores();
  let locks = kvStores.find((s) => s.name === STORE_NAMES.locks);
  if (!locks) {
    locks = await api.createKvStore(STORE_NAMES.locks);
    created.push(`kv store ${STORE_NAMES.locks}`);
  }

  const need = (ids: Map<string, string>, name: string): string => {
    const id = ids.get(name);
    if (!id) throw new Error(`store ${name} was not provisioned`);
    return id;
  };
  return {
    jwksStoreId: need(configIds, STORE_NAMES.jwks),
    signingKeysStoreId: need(secretIds, STORE_NAMES.signingKeys),
    apiKeysStoreId: need(secretIds, STORE_NAMES.apiKeys),
    adminTokensStoreId: need(secretIds, STORE_NAMES.adminTokens),
    locksStoreId: locks.id,
    configIds,
    secretIds,
    created,
  };
}

/** Installs the token the edge sends to the (local) management API as `api-keys/api_key`. */
export async function installApiToken(
  api: FastlyApi,
  stores: ProvisionedStores,
  token: string,
): Promise<void> {
  await api.putSecret(stores.apiKeysStoreId, API_KEY_SECRET, token, 'upsert');
}

/** Stores an admin token's hash and role under its id in `admin_tokens`. */
export async function installAdminToken(
  api: FastlyApi,
  stores: ProvisionedStores,
  token: { id: string; secret: string; role: 'viewer' | 'operator' },
): Promise<void> {
  await api.putSecret(
    stores.adminTokensStoreId,
    token.id,
    await tokenRecord(token.secret, token.role),
    'upsert',
  );
}
