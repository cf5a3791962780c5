// The public key documents partners fetch: Trusted Server's discovery document and a plain
// RFC 7517 JWKS. The hot path serves the document rendered when the keyring last changed (two
// config reads: the document and `active-kids`, no keyring parse); without one, or when Trusted
// Server's `active-kids` disagrees with it, the document is rendered from the keyring item (or
// Trusted Server's items). ETag is the keyring version either way.
import { sha256Hex } from '../../core/auth/admin-token.js';
import { readEdgeKeyring, type EdgeKeyring } from '../../core/keyring/edge-view.js';
import {
  DOCUMENT_ITEM_KEYS,
  keyDocumentBody,
  parseDocumentItem,
  versionEtag,
  type KeyDocumentKind,
} from '../../core/keyring/key-documents.js';
import { ITEM_KEYS } from '../../core/keyring/store-items.js';
import type { RequestContext } from '../context.js';
import { CORS_HEADERS } from '../responses.js';
import { STORE_NAMES, type Services } from '../services.js';

/** How long partners and caches may reuse a key document. Short: a rotate publishes and signs at once. */
export const JWKS_CACHE_CONTROL = 'public, max-age=60';

/** `GET /.well-known/trusted-server.json`. `version` and `jwks` are exactly Trusted Server's. */
export function discoveryDocument(ctx: RequestContext): Promise<Response> {
  return keyDocument(ctx, 'discovery');
}

/** `GET /.well-known/jwks.json`: the same keys as a bare JWKS. */
export function jwksDocument(ctx: RequestContext): Promise<Response> {
  return keyDocument(ctx, 'jwks');
}

async function keyDocument(ctx: RequestContext, kind: KeyDocumentKind): Promise<Response> {
  const inm = ctx.request.headers.get('if-none-match');
  const stored = await storedDocumentAnswer(ctx.services, kind, ctx.request.method, inm);
  if (stored) return toResponse(stored);
  const view = await edgeView(ctx);
  const body = keyDocumentBody(kind, view);
  // Without a keyring (a Trusted Server–only store), or when Trusted Server's items drifted from
  // it (the document then differs from the version's), the version cannot name it: hash the content.
  const etag =
    view.version !== null && !view.drifted
      ? versionEtag(view.version)
      : `"h${(await sha256Hex(body)).slice(0, 20)}"`;
  return toResponse(documentAnswer(etag, body, ctx.request.method, inm));
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
  services: Pick<Services, 'configStore'>,
  kind: KeyDocumentKind,
  method: string,
  ifNoneMatch: string | null,
): Promise<DocumentAnswer | null> {
  const config = services.configStore(STORE_NAMES.jwks);
  const [item, activeKids] = await Promise.all([
    config.get(DOCUMENT_ITEM_KEYS[kind]),
    config.get(ITEM_KEYS.activeKids),
  ]);
  const stored = item === null ? null : parseDocumentItem(item);
  if (stored === null || stored.activeKids !== activeKids) return null;
  return documentAnswer(stored.etag, stored.body, method, ifNoneMatch);
}

async function edgeView(ctx: RequestContext): Promise<EdgeKeyring> {
  const view = await readEdgeKeyring(ctx.services.configStore(STORE_NAMES.jwks));
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
): DocumentAnswer {
  const headers = { etag, 'cache-control': JWKS_CACHE_CONTROL, ...CORS_HEADERS };
  if (
    inm !== null &&
    inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')
  ) {
    return { status: 304, headers, body: null };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'HEAD' ? null : text,
  };
}

function toResponse(answer: DocumentAnswer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
