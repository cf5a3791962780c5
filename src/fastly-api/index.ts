// The Fastly management API client: what the platforms and the app import from this folder.
export { FastlyApi } from './client.js';
export { FastlyServicesApi } from './services-client.js';
export type { FastlyApiOptions, FetchLike, Outcome, RetryOptions } from './http.js';
export { DEFAULT_RETRY_BUDGET_MS, USER_AGENT } from './http.js';
export type { ConfigItem, StoreRef } from './config-stores.js';
export { MAX_BULK_OPS } from './config-stores.js';
export type { PutSecretMode, PutSecretResult, SecretMeta } from './secret-stores.js';
export { FASTLY_SECRET_SIGNING_KEY } from './secret-stores.js';
export type { KvEntry, KvPutOptions } from './kv-stores.js';
export { keyStoreApi } from './key-store-api.js';
export type { KeyStoreIds } from './key-store-api.js';
export { leaseStoreApi } from './lease-store-api.js';
export { fastlyDeployments } from './deployments.js';
export type { FastlyBackend } from './deployments.js';
export type { BackendSpec, ResourceLink, ServiceInfo, ServiceVersion } from './services.js';
