// When a local Fastly API already runs on the port (`npm start` next to `npm run serve`), the host
// uses it instead of starting a second one: requests go to it over HTTP, and the stores are read
// from its state file, which it rewrites after every change, so they are live views here too.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalApi, LocalApiState, StoreRef } from '../local-api/index.js';
import { loadState, STATE_FILE } from '../local-api/database.js';
import type { StateData } from '../local-api/model.js';
import { TOKEN_FILE } from '../local-api/token.js';

/** A LocalApi over a running one in another process; null if none answers with this state. */
export async function attachLocalApi(
  stateDir: string,
  host: string,
  port: number,
): Promise<LocalApi | null> {
  let token: string;
  try {
    token = readFileSync(join(stateDir, TOKEN_FILE), 'utf8').trim();
  } catch {
    return null;
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    // Authenticated and store-shaped: the API this state folder belongs to, not another server.
    const res = await fetch(`${url}/resources/stores/config`, {
      headers: { 'fastly-key': token },
      signal: AbortSignal.timeout(2000),
    });
    if (res.status !== 200) return null;
  } catch {
    return null;
  }
  return { url, token, state: fileStateView(join(stateDir, STATE_FILE)), close: async () => {} };
}

/** Edge-style reads from the state file, re-read whenever it changes. */
export function fileStateView(file: string): LocalApiState {
  let cached: { mtime: number; size: number; state: StateData } | undefined;
  const state = (): StateData => {
    const stat = statSync(file, { throwIfNoEntry: false });
    const mtime = stat?.mtimeMs ?? 0;
    const size = stat?.size ?? 0;
    if (!cached || cached.mtime !== mtime || cached.size !== size)
      cached = { mtime, size, state: loadState(file) };
    return cached.state;
  };
  const find = (stores: ReadonlyMap<string, StoreRef>, name: string): StoreRef | undefined => {
    for (const s of stores.values()) if (s.name === name) return { id: s.id, name: s.name };
    return undefined;
  };
  return {
    findConfigStore: (name) => find(state().configStores, name),
    findSecretStore: (name) => find(state().secretStores, name),
    findKvStore: (name) => find(state().kvStores, name),
    configItem: (id, key) => state().configStores.get(id)?.items.get(key)?.value ?? null,
    // Another process owns the API and its history: edge reads here see its state file as is.
    edgeConfigItem: (id, key) => state().configStores.get(id)?.items.get(key)?.value ?? null,
    secretPlaintext: (id, name) =>
      state().secretStores.get(id)?.secrets.get(name)?.plaintext.slice() ?? null,
    injectFault() {
      throw new Error('faults can be injected only into a local API this process started');
    },
    requestLog: [],
  };
}
