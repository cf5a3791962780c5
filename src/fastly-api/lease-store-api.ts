// The core's LeaseStoreApi port over the management API's KV keys: add-only writes and
// generation-matched replace and remove, which is all a mutation lease needs.
// (Interim adapter: generations travel as decimal text at the port.)
import type { LeaseStoreApi } from '../core/ports.js';
import type { FastlyApi } from './client.js';

/** LeaseStoreApi over the KV store with this management-API id (`keyring_locks`). */
export function leaseStoreApi(api: FastlyApi, kvStoreId: string): LeaseStoreApi {
  return {
    async get(key) {
      const entry = await api.kvGet(kvStoreId, key);
      return entry === null ? null : { value: entry.value, generation: String(entry.generation) };
    },
    async add(key, value) {
      return (await api.kvPut(kvStoreId, key, value, { add: true })) !== null;
    },
    async replace(key, value, generation) {
      const gen = Number(generation);
      return (await api.kvPut(kvStoreId, key, value, { ifGenerationMatch: gen })) !== null;
    },
    remove(key, generation) {
      return api.kvDelete(kvStoreId, key, { ifGenerationMatch: Number(generation) });
    },
  };
}
