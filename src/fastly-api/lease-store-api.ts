// The core's LeaseStoreApi port over the management API's KV keys: add-only writes and
// generation-matched replace and remove, which is all a mutation lease needs. Generations stay
// the exact decimal text Fastly sent.
import type { LeaseStoreApi } from '../core/ports.js';
import type { FastlyApi } from './client.js';

/** LeaseStoreApi over the KV store with this management-API id (`keyring_locks`). */
export function leaseStoreApi(api: FastlyApi, kvStoreId: string): LeaseStoreApi {
  return {
    async get(key) {
      const entry = await api.kvGet(kvStoreId, key);
      return entry === null ? null : { value: entry.value, generation: entry.generation };
    },
    add(key, value) {
      return api.kvPut(kvStoreId, key, value, { add: true });
    },
    replace(key, value, generation) {
      return api.kvPut(kvStoreId, key, value, { ifGenerationMatch: generation });
    },
    remove(key, generation) {
      return api.kvDelete(kvStoreId, key, { ifGenerationMatch: generation });
    },
  };
}
