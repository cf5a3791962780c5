// The public key documents partners fetch: Trusted Server's discovery document and a plain
// RFC 7517 JWKS. One edge config read on the hot path; ETag is the keyring version.
import { sha256Hex } from '../../core/auth/admin-token.js';
import {
  publishedEdgeKeysets,
  readEdgeKeyring,
  type EdgeKeyring,
} from '../../core/keyring/edge-view.js';
import type { RequestContext } from '../context.js';
import { CORS_HEADERS } from '../responses.js';
import { STORE_NAMES } from '../services.js';

/** How long partners and caches may reuse a key document. Short: a rotate publishes and signs at once. */
export const JWKS_CACHE_CONTROL = 'public, max-age=60';

/** `GET /.well-known/trusted-server.json`. `version` and `jwks` are exactly Trusted Server's. */
export async function discoveryDocument(ctx: RequestContext): Promise<Response> {
  const view = await edgeView(ctx);
  const published = publishedEdgeKeysets(view);
  return keyDocument(ctx, view, {
    version: '1.0',
    jwks: { keys: published.map((k) => k.jwk) },
    keyring_version: view.version,
    tainted_kids: published.filter((k) => k.state === 'TAINTED').map((k) => k.id),
  });
}

/** `GET /.well-known/jwks.json`: the same keys as a bare JWKS. */
export async function jwksDocument(ctx: RequestContext): Promise<Response> {
  const view = await edgeView(ctx);
  return keyDocument(ctx, view, { keys: publishedEdgeKeysets(view).map((k) => k.jwk) });
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

async function keyDocument(
  ctx: RequestContext,
  view: EdgeKeyring,
  body: unknown,
): Promise<Response> {
  const text = JSON.stringify(body);
  // Without a keyring (a Trusted Server–only store) there is no version: hash the content.
  const etag =
    view.version !== null ? `"${view.version}"` : `"h${(await sha256Hex(text)).slice(0, 20)}"`;
  const headers = { etag, 'cache-control': JWKS_CACHE_CONTROL, ...CORS_HEADERS };
  const inm = ctx.request.headers.get('if-none-match');
  if (
    inm !== null &&
    inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')
  ) {
    return new Response(null, { status: 304, headers });
  }
  const head = ctx.request.method === 'HEAD';
  return new Response(head ? null : text, {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
  });
}
