// One engine over the in-memory key store, and the store as Trusted Server's own tools leave it:
// the set-up the engine-level suites share.
import { KeyringEngine } from '../../src/core/keyring/engine.js';
import { counterRandom, FakeKeyStore, manualClock } from './fake-key-store.js';

/** Trusted Server's development key: its JWK item and its stored seed. */
export const DEV_KID = 'ts-2025-10-A';
export const DEV_JWK =
  '{"kty":"OKP","crv":"Ed25519","x":"UVTi04QLrIuB7jXpVfHjUTVN5aIdcbPNr50umTtN8pw","alg":"EdDSA","kid":"ts-2025-10-A"}';
export const DEV_SEED = 'NVnTYrw5xoyTJDOwoUWoPJO3A6UCCXOJJUzgGTxxx7k=';

/** A store as Trusted Server's own tools leave it: the development key, current and published. */
export function trustedServerStore(): FakeKeyStore {
  const store = new FakeKeyStore();
  store.items.set(DEV_KID, DEV_JWK);
  store.items.set('current-kid', DEV_KID);
  store.items.set('active-kids', DEV_KID);
  store.secrets.set(DEV_KID, DEV_SEED);
  return store;
}

/**
 * The engine over `store`, on a manual clock and counting randomness. `edgeKeys` gives it the
 * edge's view of the private keys (the same map: the fake has no propagation delay), which the
 * key log and the key-material checks read.
 */
export function engineOver(store: FakeKeyStore, options: { edgeKeys?: boolean } = {}) {
  const clock = manualClock();
  const engine = new KeyringEngine({
    api: store,
    clock,
    random: counterRandom(),
    deployment: 'default',
    keyLifetimeDays: 90,
    ...(options.edgeKeys
      ? { privateKeys: { get: (name: string) => Promise.resolve(store.secrets.get(name) ?? null) } }
      : {}),
  });
  return { store, clock, engine };
}
