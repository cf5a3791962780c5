// The public key documents partners fetch: Trusted Server's discovery document and a plain
// RFC 7517 JWKS. The hot path serves the document rendered when the keyring last changed (two
// config reads: the document and `active-kids`, no keyring parse); without one, or when Trusted
// Server's `active-kids` disagrees with it, the document is rendered from the keyring item (or
// Trusted Server's items). ETag is the keyring version either way.
//
// Every deployment is published: `default` at Trusted Server's paths, every deployment (default
// included) at `/.well-known/deployments/NAME/trusted-server.json` and `.../NAME/jwks.json`, each
// read from that deployment's own Config Store, with the same fast path, ETag/304 and caching.
import { readEdgeKeyring, type EdgeKeyring } from '../../core/keyring/edge-view.js';
import {
  contentEtag,
  DOCUMENT_ITEM_KEYS,
  endorsedSource,
  keyDocumentBody,
  parseDocumentItem,
  versionEtag,
  type KeyDocumentKind,
} from '../../core/keyring/key-documents.js';
import { ITEM_KEYS } from '../../core/keyring/store-items.js';
import { DEFAULT_DEPLOYMENT, listDeployments, resolveDeployment } from '../../core/deployments.js';
import { nextTransitionAtMs } from '../../core/schedule/planner.js';
import { schedulePolicy } from '../../core/schedule/policy.js';
import type { Settings } from '../../core/settings.js';
import type { RequestContext } from '../context.js';
import { CORS_HEADERS } from '../responses.js';
import { STORE_NAMES, type Services } from '../services.js';

/**
 * The key documents' Cache-Control: `key_documents.max_age_seconds`, but never past the next
 * scheduled transition (a partner then fetches the key the schedule publishes as it appears),
 * plus `stale-while-revalidate` and `stale-if-error` so a partner is never left without keys
 * while it refetches or when the edge cannot answer. An overdue transition gives max-age=0:
 * partners revalidate (a cheap 304) until the run has happened.
 */
export function keyDocumentCacheControl(
  docs: Settings['key_documents'],
  nextTransitionAtMs: number | null,
  nowMs: number,
): string {
  let maxAge = docs.max_age_seconds;
  if (nextTransitionAtMs !== null) {
    maxAge = Math.min(maxAge, Math.max(0, Math.floor((nextTransitionAtMs - nowMs) / 1000)));
  }
  return `public, max-age=${maxAge}, stale-while-revalidate=${docs.stale_while_revalidate_seconds}, stale-if-error=${docs.stale_if_error_seconds}`;
}

/** `GET /.well-known/trusted-server.json`. `version` and `jwks` are exactly Trusted Server's. */
export function discoveryDocument(ctx: RequestContext): Promise<Response> {
  return keyDocument(ctx, 'discovery');
}

/** `GET /.well-known/jwks.json`: the same keys as a bare JWKS. */
export function jwksDocument(ctx: RequestContext): Promise<Response> {
  return keyDocument(ctx, 'jwks');
}

/** The path prefix of the per-deployment documents. */
export const DEPLOYMENT_DOCUMENTS_PREFIX = '/.well-known/deployments/';

/** The file names of the two documents, at Trusted Server's paths and per deployment. */
const DOCUMENT_FILES: Readonly<Record<KeyDocumentKind, string>> = {
  discovery: 'trusted-server.json',
  jwks: 'jwks.json',
};

/** The public paths of a deployment's documents. */
export function keyDocumentPaths(deployment: string): Record<KeyDocumentKind, string> {
  return {
    discovery: `${DEPLOYMENT_DOCUMENTS_PREFIX}${deployment}/${DOCUMENT_FILES.discovery}`,
    jwks: `${DEPLOYMENT_DOCUMENTS_PREFIX}${deployment}/${DOCUMENT_FILES.jwks}`,
  };
}

/**
 * Which document a raw request path names, and the Config Store it is read from; undefined for
 * any other path. Only exact paths of declared deployments match, so the Node edge can answer
 * them before the app's canonical-path rule without serving a spelling the app would refuse.
 */
export function keyDocumentTarget(
  path: string,
  settings: Settings,
): { kind: KeyDocumentKind; configStoreName: string } | undefined {
  if (path === '/.well-known/trusted-server.json') {
    return { kind: 'discovery', configStoreName: STORE_NAMES.jwks };
  }
  if (path === '/.well-known/jwks.json') return { kind: 'jwks', configStoreName: STORE_NAMES.jwks };
  if (!path.startsWith(DEPLOYMENT_DOCUMENTS_PREFIX)) return undefined;
  for (const d of listDeployments(settings)) {
    const paths = keyDocumentPaths(d.name);
    if (path === paths.discovery) return { kind: 'discovery', configStoreName: d.configStoreName };
    if (path === paths.jwks) return { kind: 'jwks', configStoreName: d.configStoreName };
  }
  return undefined;
}

async function keyDocument(ctx: RequestContext, kind: KeyDocumentKind): Promise<Response> {
  const inm = ctx.request.headers.get('if-none-match');
  const name = ctx.params['deployment'];
  // `deployment_not_found` (404) for an undeclared name on the per-deployment paths.
  const storeName =
    name === undefined
      ? STORE_NAMES.jwks
      : resolveDeployment(ctx.services.settings, name).configStoreName;
  const stored = await storedDocumentAnswer(ctx.services, kind, ctx.request.method, inm, storeName);
  if (stored) return toResponse(stored);
  const view = await edgeView(ctx, storeName);
  const body = keyDocumentBody(kind, endorsedSource(view.version, view.keysets, view.keyring));
  // Without a keyring (a Trusted Server–only store), or when Trusted Server's items drifted from
  // it (the document then differs from the version's), the version cannot name it: hash the content.
  const etag =
    view.version !== null && !view.drifted ? versionEtag(view.version) : await contentEtag(body);
  const { settings, clock } = ctx.services;
  // The schedule of the deployment whose document this is.
  const next = view.keyring
    ? nextTransitionAtMs(
        view.keyring,
        schedulePolicy(settings, resolveDeployment(settings, name ?? DEFAULT_DEPLOYMENT)),
      )
    : null;
  const cacheControl = keyDocumentCacheControl(settings.key_documents, next, clock.now());
  return toResponse(documentAnswer(etag, body, ctx.request.method, inm, cacheControl));
}

/** A key document's answer as plain data, so a platform can send it without Fetch objects. */
export interface DocumentAnswer {
  status: 200 | 304;
  headers: Record<string, string>;
  /** Null for a 304 or a HEAD. */
  body: string | null;
}

/**
 * The stored document's answer (two config reads, no keyring parse), or null when the item is
 * absent, malformed or disagrees with Trusted Server's `active-kids`: then the route renders
 * from the keyring. The Node edge calls this directly for the two document paths.
 */
export async function storedDocumentAnswer(
  services: Pick<Services, 'configStore' | 'clock' | 'settings'>,
  kind: KeyDocumentKind,
  method: string,
  ifNoneMatch: string | null,
  configStoreName: string = STORE_NAMES.jwks,
): Promise<DocumentAnswer | null> {
  const config = services.configStore(configStoreName);
  const [item, activeKids] = await Promise.all([
    config.get(DOCUMENT_ITEM_KEYS[kind]),
    config.get(ITEM_KEYS.activeKids),
  ]);
  const stored = item === null ? null : parseDocumentItem(item);
  if (stored === null || stored.activeKids !== activeKids) return null;
  const cacheControl = keyDocumentCacheControl(
    services.settings.key_documents,
    stored.nextTransitionAtMs,
    services.clock.now(),
  );
  return documentAnswer(stored.etag, stored.body, method, ifNoneMatch, cacheControl);
}

async function edgeView(ctx: RequestContext, storeName: string): Promise<EdgeKeyring> {
  const view = await readEdgeKeyring(ctx.services.configStore(storeName));
  if (view.corrupt) {
    ctx.services.logger.log('warn', 'keyring_corrupt_fallback', {
      request_id: ctx.requestId,
      reason: view.corrupt,
    });
  }
  return view;
}

function documentAnswer(
  etag: string,
  text: string,
  method: string,
  inm: string | null,
  cacheControl: string,
): DocumentAnswer {
  const headers = { etag, 'cache-control': cacheControl, ...CORS_HEADERS };
  if (inm !== null && ifNoneMatchHits(inm, etag)) return { status: 304, headers, body: null };
  return {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'HEAD' ? null : text,
  };
}

/**
 * Whether `If-None-Match` names `etag` (weak or strong) or is `*`. A revalidating partner sends
 * back the ETag it was given, so that exact value is tested first, before any list parsing.
 */
export function ifNoneMatchHits(inm: string, etag: string): boolean {
  if (inm === etag) return true;
  for (const part of inm.split(',')) {
    const tag = part.trim();
    if (tag === etag || tag === '*' || tag === `W/${etag}`) return true;
  }
  return false;
}

function toResponse(answer: DocumentAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
