// Per-request wiring: the request id, the authenticated caller, and the management-API side of a
// deployment (built only for mutations, so the hot path never reads the API token).
import { TskError } from '../core/errors.js';
import type { Principal } from '../core/auth/admin-token.js';
import { resolveDeployment } from '../core/deployments.js';
import { KeyringEngine } from '../core/keyring/engine.js';
import { KvLease } from '../core/keyring/lease.js';
import { KeyRotationManager } from '../core/keyring/rotation-manager.js';
import { FastlyApi, keyStoreApi, leaseStoreApi } from '../fastly-api/index.js';
import type { AuditFacts } from './audit.js';
import { API_KEY_SECRET, STORE_NAMES, type ClientInfo, type Services } from './services.js';

/** What a route handler gets. */
export interface RequestContext {
  readonly request: Request;
  /** The request's method; differs from `request.method` only for methods Fetch cannot carry. */
  readonly method: string;
  readonly url: URL;
  /**
   * The path as the client sent it (see `requestPath`): what the canonical-path rule judges, what
   * routing matches once it passed, and what the audit trail records.
   */
  readonly path: string;
  readonly services: Services;
  readonly requestId: string;
  /** Path parameters of the matched route. */
  readonly params: Readonly<Record<string, string>>;
  /** The caller, on admin routes. */
  principal?: Principal;
  /** Members a handler wants echoed in a Trusted Server–shaped failure (e.g. the kid it was given). */
  failure: Record<string, unknown>;
  /** The client, as the platform saw it. */
  readonly client: ClientInfo;
  /** Facts for the audit record, filled in as the request is handled. */
  audit: AuditFacts;
}

/** The stores and API access of one deployment. */
export interface Deployment {
  name: string;
  engine: KeyringEngine;
  manager: KeyRotationManager;
}

/**
 * A fresh request id, always made here: a client-chosen id would let a caller write what it
 * likes into the audit trail's correlation field.
 */
export function requestIdFor(services: Services): string {
  return Array.from(services.random.bytes(8), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Opens a deployment: reads the Fastly API token from the `api-keys` secret store (per request,
 * never cached in module state) and builds the engine over the management API, guarded by the
 * deployment's lease in the `keyring_locks` KV store.
 */
export async function openDeployment(ctx: RequestContext, name = 'default'): Promise<Deployment> {
  const { services } = ctx;
  const deployment = resolveDeployment(services.settings, name);
  const token = (await services.secretStore(STORE_NAMES.apiKeys).get(API_KEY_SECRET))?.trim();
  if (!token) {
    throw new TskError(
      'not_configured',
      `the Fastly API token is missing: store it as "${API_KEY_SECRET}" in the "${STORE_NAMES.apiKeys}" secret store`,
    );
  }
  const { fastly_api: apiSettings, request_signing: signing } = services.settings;
  const api = new FastlyApi({
    endpoint: apiSettings.endpoint,
    token,
    fetch: services.managementFetch,
    timeoutMs: apiSettings.timeout_ms,
    // No attempt of any call, retries included, may be sent after the lease this request takes
    // ends (it ends no earlier than this): the journal's settle time depends on it.
    retry: { deadlineMs: services.clock.now() + apiSettings.lease_ms },
    ...(apiSettings.secret_signing_key ? { secretSigningKey: apiSettings.secret_signing_key } : {}),
  });
  const lockStoreId = signing.lock_store_id;
  const guard = lockStoreId
    ? new KvLease(
        leaseStoreApi(api, lockStoreId),
        services.clock,
        {
          holder: ctx.principal?.tokenId ?? 'anonymous',
          requestId: ctx.requestId,
        },
        { operationMs: apiSettings.lease_ms, lateWriteMs: apiSettings.late_write_ms },
      )
    : undefined;
  const engine = new KeyringEngine({
    api: keyStoreApi(api, {
      configStoreId: deployment.configStoreId,
      secretStoreId: deployment.secretStoreId,
    }),
    clock: services.clock,
    random: services.random,
    deployment: deployment.name,
    keyLifetimeDays: deployment.keyLifetimeDays,
    callTimeoutMs: apiSettings.timeout_ms,
    lateWriteBoundMs: apiSettings.late_write_ms,
    ...(guard ? { guard } : {}),
  });
  return { name: deployment.name, engine, manager: new KeyRotationManager(engine) };
}

/** Like `openDeployment`, for mutations: refuses when no lock store is configured. */
export async function openForMutation(ctx: RequestContext, name = 'default'): Promise<Deployment> {
  if (!ctx.services.settings.request_signing.lock_store_id) {
    throw new TskError(
      'not_configured',
      'request_signing.lock_store_id is not set: create the keyring_locks KV store, link it, and put its id in trusted-server.toml',
    );
  }
  return openDeployment(ctx, name);
}
