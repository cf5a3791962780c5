// The Fastly management API as the app's management backend: both platforms (Compute and the
// Node local edge) build their `Deployments` here, differing only in how a request reaches the
// API (a named backend on Compute, plain fetch to the loopback API on Node).
import { API_KEY_SECRET, STORE_NAMES, resolveDeployment } from '../core/deployments.js';
import { TskError } from '../core/errors.js';
import { openKeyring, type Deployments } from '../core/keyring/open-deployment.js';
import type { Clock, EdgeSecrets, Random } from '../core/ports.js';
import type { Settings } from '../core/settings.js';
import { FastlyApi } from './client.js';
import type { FetchLike } from './http.js';
import { keyStoreApi } from './key-store-api.js';
import { leaseStoreApi } from './lease-store-api.js';

/** What a platform gives for its management backend. */
export interface FastlyBackend {
  settings: Settings;
  clock: Clock;
  random: Random;
  /** Edge secret stores by name; the API token is read from `api-keys` on every open. */
  secretStore(name: string): EdgeSecrets;
  /** Sends one request to the management API; the client adds `Fastly-Key` itself. */
  fetch: FetchLike;
}

/**
 * Deployments over the Fastly management API. Each `open` reads the API token from the
 * `api-keys` secret store (never cached in module state, so a rotated token is used at once) and
 * builds a client whose retries all end within the lease the request takes.
 */
export function fastlyDeployments(backend: FastlyBackend): Deployments {
  const { settings, clock } = backend;
  return {
    async open(request) {
      const deployment = resolveDeployment(settings, request.name);
      const stored = await backend.secretStore(STORE_NAMES.apiKeys).get(API_KEY_SECRET);
      const token = stored?.trim();
      if (!token) {
        throw new TskError(
          'not_configured',
          `the Fastly API token is missing: store it as "${API_KEY_SECRET}" in the "${STORE_NAMES.apiKeys}" secret store`,
        );
      }
      const apiSettings = settings.fastly_api;
      const api = new FastlyApi({
        endpoint: apiSettings.endpoint,
        token,
        fetch: backend.fetch,
        timeoutMs: apiSettings.timeout_ms,
        // No attempt of any call, retries included, may be sent after the lease this request
        // takes ends (it ends no earlier than this): the journal's settle time depends on it.
        retry: { deadlineMs: clock.now() + apiSettings.lease_ms },
        ...(apiSettings.secret_signing_key
          ? { secretSigningKey: apiSettings.secret_signing_key }
          : {}),
      });
      const lockStoreId = settings.request_signing.lock_store_id;
      return openKeyring({
        settings,
        deployment,
        clock,
        random: backend.random,
        keyStore: keyStoreApi(api, {
          configStoreId: deployment.configStoreId,
          secretStoreId: deployment.secretStoreId,
        }),
        ...(lockStoreId ? { leaseStore: leaseStoreApi(api, lockStoreId) } : {}),
        holder: { holder: request.holder, requestId: request.requestId },
        // What activation checks a private key against: the edge's read, as the signer's.
        privateKeys: backend.secretStore(deployment.secretStoreName),
      });
    },
  };
}
