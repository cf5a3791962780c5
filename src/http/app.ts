// The whole service as one function: (Request, Services) => Response. Routing, admin auth and
// error rendering live here; each route's work lives in `routes/`.
import { authenticate, authorize, parseAuthorization } from '../core/auth/admin-token.js';
import { TskError } from '../core/errors.js';
import { requestIdFor, type RequestContext } from './context.js';
import { asTskError, STATUS_OF } from './errors.js';
import { deactivateKey, rotateKey, signTestPayload } from './routes/admin-keys.js';
import { discoveryDocument, jwksDocument } from './routes/discovery.js';
import { listKeysets, prepareKeyset, removeKeyset, transitionKeyset } from './routes/keysets.js';
import { verifySignature } from './routes/verify.js';
import {
  ADMIN_HEADERS,
  CORS_HEADERS,
  json,
  problem,
  publicDetails,
  retryAfter,
} from './responses.js';
import { matchRoute, pathSegments, type ErrorStyle, type Route } from './router.js';
import { STORE_NAMES, type Services } from './services.js';

const ADMIN_PREFIXES = ['/admin/keys', '/_ts/admin/keys'];

/** Every route. Trusted Server's admin routes also answer under `/_ts`. */
export const ROUTES: readonly Route[] = [
  {
    pattern: '/.well-known/trusted-server.json',
    methods: { GET: discoveryDocument, HEAD: discoveryDocument },
    errors: 'public',
  },
  {
    pattern: '/.well-known/jwks.json',
    methods: { GET: jwksDocument, HEAD: jwksDocument },
    errors: 'public',
  },
  { pattern: '/verify-signature', methods: { POST: verifySignature }, errors: 'verify' },
  ...ADMIN_PREFIXES.flatMap((prefix): Route[] => [
    {
      pattern: `${prefix}/rotate`,
      methods: { POST: rotateKey },
      role: 'operator',
      errors: 'rotate',
    },
    {
      pattern: `${prefix}/deactivate`,
      methods: { POST: deactivateKey },
      role: 'operator',
      errors: 'deactivate',
    },
    {
      pattern: `${prefix}/sign`,
      methods: { POST: signTestPayload },
      role: 'operator',
      errors: 'sign',
    },
  ]),
  {
    pattern: '/admin/deployments/:deployment/keysets',
    methods: { GET: listKeysets, POST: prepareKeyset },
    role: 'viewer',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/keysets/:id',
    methods: { DELETE: removeKeyset },
    role: 'operator',
    errors: 'problem',
  },
  {
    pattern: '/admin/deployments/:deployment/keysets/:id/:action',
    methods: { POST: transitionKeyset },
    role: 'operator',
    errors: 'problem',
  },
];

/** Methods that change state need the operator role even on routes viewers may read. */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const WWW_AUTHENTICATE =
  'Bearer realm="trusted-server-keys", Basic realm="trusted-server-keys", charset="UTF-8"';

/** Answers one request. Never throws: every failure becomes a response. */
export async function handle(request: Request, services: Services): Promise<Response> {
  const requestId = requestIdFor(request, services);
  let style: ErrorStyle = 'problem';
  let ctx: RequestContext | undefined;
  try {
    const url = new URL(request.url);
    const match = matchRoute(ROUTES, pathSegments(url.pathname));
    if (!match) throw new TskError('not_found', `no route for ${url.pathname}`);
    style = match.route.errors;
    const { route, params } = match;
    const allowed = Object.keys(route.methods);
    if (request.method === 'OPTIONS' && !route.role) return preflight(allowed);
    const handler = route.methods[request.method];
    if (!handler) {
      throw new TskError(
        'method_not_allowed',
        `${request.method} is not allowed here; use ${allowed.join(', ')}`,
        {
          details: { allow: allowed.join(', ') },
        },
      );
    }
    ctx = { request, url, services, requestId, params, failure: {} };
    if (route.role) {
      const credential = parseAuthorization(request.headers.get('authorization'));
      if (!credential)
        throw new TskError(
          'unauthorized',
          'send an admin token: Authorization: Bearer <id>.<secret>',
        );
      const stored = await services.secretStore(STORE_NAMES.adminTokens).get(credential.id);
      ctx.principal = await authenticate(credential, stored);
      authorize(ctx.principal, MUTATING.has(request.method) ? 'operator' : route.role);
    }
    return await handler(ctx);
  } catch (err) {
    const error = asTskError(err, services.logger, requestId);
    if (STATUS_OF[error.code] >= 500) {
      services.logger.log('warn', 'request_failed', {
        request_id: requestId,
        code: error.code,
        message: error.message,
      });
    }
    return renderError(error, style, ctx?.failure ?? {});
  }
}

function preflight(allowed: string[]): Response {
  return new Response(null, {
    status: 204,
    headers: { ...CORS_HEADERS, allow: [...allowed, 'OPTIONS'].join(', ') },
  });
}

/** Renders an error in the route's style, with `Allow` / `WWW-Authenticate` where HTTP wants them. */
function renderError(err: TskError, style: ErrorStyle, echo: Record<string, unknown>): Response {
  const status = STATUS_OF[err.code];
  const extra: Record<string, string> = { ...retryAfter(err) };
  const allow = err.details?.['allow'];
  if (err.code === 'method_not_allowed' && typeof allow === 'string') extra['allow'] = allow;
  if (err.code === 'unauthorized') extra['www-authenticate'] = WWW_AUTHENTICATE;
  const compat = { ...echo, error: err.message, code: err.code };
  switch (style) {
    case 'rotate':
      return json(
        {
          success: false,
          message: 'Key rotation failed',
          new_kid: '',
          previous_kid: null,
          active_kids: [],
          jwk: {},
          ...compat,
        },
        status,
        { ...ADMIN_HEADERS, ...extra },
      );
    case 'deactivate':
      return json(
        {
          success: false,
          message: 'Key deactivation failed',
          deactivated_kid: '',
          deleted: false,
          remaining_active_kids: [],
          ...compat,
        },
        status,
        { ...ADMIN_HEADERS, ...extra },
      );
    case 'sign':
      return json({ success: false, ...compat }, status, { ...ADMIN_HEADERS, ...extra });
    case 'verify':
      return json({ verified: false, kid: '', message: 'Verification error', ...compat }, status, {
        ...CORS_HEADERS,
        ...extra,
      });
    case 'public':
      return json({ ...compat, ...publicDetails(err) }, status, { ...CORS_HEADERS, ...extra });
    case 'problem': {
      const response = problem(err);
      for (const [k, v] of Object.entries(extra)) response.headers.set(k, v);
      return response;
    }
  }
}
