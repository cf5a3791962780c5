// The core's KeyStoreApi port over the management API: one deployment's config store
// (`jwks_store`) and signing-key secret store (`signing_keys`), addressed by their API ids.
import type { ConfigItemOp, KeyStoreApi } from '../core/ports.js';
import type { FastlyApi } from './client.js';

/** The management-API ids of one deployment's stores (`trusted-server.toml` `[request_signing]`). */
export interface KeyStoreIds {
  configStoreId: string;
  secretStoreId: string;
}

/** KeyStoreApi for the deployment whose stores have these ids. */
export function keyStoreApi(api: FastlyApi, ids: KeyStoreIds): KeyStoreApi {
  const { configStoreId, secretStoreId } = ids;
  return {
    async readConfigItems() {
      const items = await api.listConfigItems(configStoreId);
      return new Map(items.map((item) => [item.key, item.value]));
    },
    async patchConfigItems(ops: readonly ConfigItemOp[]) {
      await api.bulkUpdateConfigItems(configStoreId, ops);
    },
    async createSecret(name: string, value: string) {
      await api.putSecret(secretStoreId, name, value, 'create');
    },
    deleteSecret(name: string) {
      return api.deleteSecret(secretStoreId, name);
    },
    async listSecretNames() {
      const secrets = await api.listSecrets(secretStoreId);
      return secrets.map((secret) => secret.name);
    },
  };
}
