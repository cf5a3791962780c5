// The `LocalApiState` handed to the Node edge and to tests: reads straight from the live state
// (what the edge would see once Fastly has propagated a write) plus the test hooks.
import type { Database } from './database.js';
import type { FaultRegistry } from './faults.js';
import type { LocalApiState, RequestLogEntry, StoreRef } from './types.js';

function findByName(stores: ReadonlyMap<string, StoreRef>, name: string): StoreRef | undefined {
  for (const store of stores.values()) {
    if (store.name === name) return { id: store.id, name: store.name };
  }
  return undefined;
}

/** Builds the state view over the database, the fault registry and the request log. */
export function createStateView(
  db: Database,
  faults: FaultRegistry,
  requestLog: readonly RequestLogEntry[],
  propagationDelayMs = 0,
): LocalApiState {
  return {
    findConfigStore: (name) => findByName(db.state.configStores, name),
    findSecretStore: (name) => findByName(db.state.secretStores, name),
    findKvStore: (name) => findByName(db.state.kvStores, name),
    configItem(storeId, key) {
      return db.state.configStores.get(storeId)?.items.get(key)?.value ?? null;
    },
    edgeConfigItem(storeId, key) {
      const state = propagationDelayMs > 0 ? db.stateAt(Date.now() - propagationDelayMs) : db.state;
      return state.configStores.get(storeId)?.items.get(key)?.value ?? null;
    },
    secretPlaintext(storeId, name) {
      const secret = db.state.secretStores.get(storeId)?.secrets.get(name);
      // A copy: callers must not be able to change the stored secret.
      return secret === undefined ? null : secret.plaintext.slice();
    },
    injectFault: (fault) => faults.add(fault),
    requestLog,
  };
}
