// The management-API client the rest of the service holds: one object per token and endpoint,
// its methods the operations of config-stores.ts, secret-stores.ts and kv-stores.ts.
import type { ConfigItemOp } from '../core/ports.js';
import * as config from './config-stores.js';
import type { ConfigItem, StoreRef } from './config-stores.js';
import { Transport } from './http.js';
import type { FastlyApiOptions } from './http.js';
import * as kv from './kv-stores.js';
import type { KvEntry, KvPutOptions } from './kv-stores.js';
import * as secrets from './secret-stores.js';
import type { PutSecretMode, PutSecretResult, SecretMeta } from './secret-stores.js';
import { FASTLY_SECRET_SIGNING_KEY, SecretSealer } from './secret-stores.js';

/**
 * The Fastly management API (config stores, secret stores, KV stores) over an injected fetch.
 * Every failure is a TskError (`upstream_failed`, `upstream_timeout`, `upstream_rate_limited`,
 * `secret_exists`, `invalid_request`) whose `details.outcome` says whether a write may have
 * landed; single calls are retried only where a repeat cannot change the outcome (http.ts).
 * Secrets are written sealed to a client key signed by `secretSigningKey` (Fastly's by default).
 */
export class FastlyApi {
  /** For subclasses with more calls (FastlyServicesApi, `tsctl setup`'s). */
  protected readonly transport: Transport;
  readonly #sealer: SecretSealer;

  constructor(options: FastlyApiOptions) {
    this.transport = new Transport(options);
    const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
    this.#sealer = new SecretSealer(options.secretSigningKey ?? FASTLY_SECRET_SIGNING_KEY, random);
  }

  /** Creates a config store. */
  createConfigStore(name: string): Promise<StoreRef> {
    return config.createConfigStore(this.transport, name);
  }

  /** Every config store, or only the one with `name`. */
  listConfigStores(name?: string): Promise<StoreRef[]> {
    return config.listConfigStores(this.transport, name);
  }

  /** Every item of a config store. */
  listConfigItems(storeId: string): Promise<ConfigItem[]> {
    return config.listConfigItems(this.transport, storeId);
  }

  /** One item's value, or null when absent. */
  getConfigItem(storeId: string, key: string): Promise<string | null> {
    return config.getConfigItem(this.transport, storeId, key);
  }

  /** Creates or replaces one item. */
  upsertConfigItem(storeId: string, key: string, value: string): Promise<void> {
    return config.upsertConfigItem(this.transport, storeId, key, value);
  }

  /** Deletes one item; false when it did not exist. */
  deleteConfigItem(storeId: string, key: string): Promise<boolean> {
    return config.deleteConfigItem(this.transport, storeId, key);
  }

  /** Applies up to 1,000 operations in one request, in order. */
  bulkUpdateConfigItems(storeId: string, ops: readonly ConfigItemOp[]): Promise<void> {
    return config.bulkUpdateConfigItems(this.transport, storeId, ops);
  }

  /** Creates a secret store. */
  createSecretStore(name: string): Promise<StoreRef> {
    return secrets.createSecretStore(this.transport, name);
  }

  /** Every secret store, or only those named `name`. */
  listSecretStores(name?: string): Promise<StoreRef[]> {
    return secrets.listSecretStores(this.transport, name);
  }

  /** Writes a secret, sealed (`create` fails with `secret_exists` when the name is taken). */
  putSecret(
    storeId: string,
    name: string,
    plaintext: string | Uint8Array,
    mode: PutSecretMode,
  ): Promise<PutSecretResult> {
    return secrets.putSecret(this.transport, this.#sealer, storeId, name, plaintext, mode);
  }

  /** A secret's metadata, or null when it does not exist. */
  describeSecret(storeId: string, name: string): Promise<SecretMeta | null> {
    return secrets.describeSecret(this.transport, storeId, name);
  }

  /**
   * The signing key the API reports for its client keys. Trusting what an API says about
   * itself defeats the check, so use this only for an API you run yourself (the local one).
   */
  getSecretSigningKey(): Promise<string> {
    return secrets.getSecretSigningKey(this.transport);
  }

  /** Deletes a secret; false when it did not exist. */
  deleteSecret(storeId: string, name: string): Promise<boolean> {
    return secrets.deleteSecret(this.transport, storeId, name);
  }

  /** Every secret's metadata (names and digests; values are never readable). */
  listSecrets(storeId: string): Promise<SecretMeta[]> {
    return secrets.listSecrets(this.transport, storeId);
  }

  /** Creates a KV store. */
  createKvStore(name: string): Promise<StoreRef> {
    return kv.createKvStore(this.transport, name);
  }

  /** Every KV store. */
  listKvStores(): Promise<StoreRef[]> {
    return kv.listKvStores(this.transport);
  }

  /** A KV entry with its generation, or null when absent. */
  kvGet(storeId: string, key: string): Promise<KvEntry | null> {
    return kv.kvGet(this.transport, storeId, key);
  }

  /** Writes a KV entry; false when a precondition failed. */
  kvPut(storeId: string, key: string, value: string, options?: KvPutOptions): Promise<boolean> {
    return kv.kvPut(this.transport, storeId, key, value, options);
  }

  /** Deletes a KV entry; false when absent or the generation did not match. */
  kvDelete(
    storeId: string,
    key: string,
    options?: { ifGenerationMatch?: string },
  ): Promise<boolean> {
    return kv.kvDelete(this.transport, storeId, key, options);
  }
}
