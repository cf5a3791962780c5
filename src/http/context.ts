// Per-request wiring: the request id, the authenticated caller, and the management side of a
// deployment (opened through the platform's `Services.deployments`, only by routes that need the
// authoritative state, so the hot path never reads the API token).
import { TskError } from '../core/errors.js';
import type { Principal } from '../core/auth/admin-token.js';
import { DEFAULT_DEPLOYMENT } from '../core/deployments.js';
import type { OpenedDeployment } from '../core/keyring/open-deployment.js';
import type { AuditFacts } from './audit.js';
import type { ClientInfo, Services } from './services.js';

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
export type Deployment = OpenedDeployment;

/**
 * A fresh request id, always made here: a client-chosen id would let a caller write what it
 * likes into the audit trail's correlation field.
 */
export function requestIdFor(services: Services): string {
  return Array.from(services.random.bytes(8), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Opens a deployment through the platform's management backend (`services.deployments`), as the
 * caller: the lease it may take records the admin token id and this request's id.
 */
export async function openDeployment(
  ctx: RequestContext,
  name: string = DEFAULT_DEPLOYMENT,
): Promise<Deployment> {
  return ctx.services.deployments.open({
    name,
    holder: ctx.principal?.tokenId ?? 'anonymous',
    requestId: ctx.requestId,
  });
}

/** Like `openDeployment`, for mutations: refuses when no lock store is configured. */
export async function openForMutation(
  ctx: RequestContext,
  name: string = DEFAULT_DEPLOYMENT,
): Promise<Deployment> {
  if (!ctx.services.settings.request_signing.lock_store_id) {
    throw new TskError(
      'not_configured',
      'request_signing.lock_store_id is not set: create the keyring_locks KV store, link it, and put its id in trusted-server.toml',
    );
  }
  return openDeployment(ctx, name);
}
