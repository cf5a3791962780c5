// The whole service as one function: (Request, Services, client) => Response. Routing, the admin
// gate, error rendering and the audit trail live here; each route's work lives in `routes/`.
import { TskError } from '../core/errors.js';
import { admitAdmin } from './admin-gate.js';
import { auditRecord } from './audit.js';
import { isAdminPath, nonCanonical, requestPath } from './canonical-path.js';
import { requestIdFor, type RequestContext } from './context.js';
import { asTskError, STATUS_OF } from './errors.js';
import { renderError } from './render-error.js';
import { CORS_HEADERS } from './responses.js';
import { matchRoute, pathSegments, type ErrorStyle } from './router.js';
import { ROUTES } from './routes.js';
import type { ClientInfo, Services } from './services.js';

/** Answers one request. Never throws: every failure becomes a response. */
export async function handle(
  request: Request,
  services: Services,
  client: ClientInfo = { ip: 'unknown' },
): Promise<Response> {
  return handleWithMethod(request, request.method, services, client);
}

/**
 * For a request whose method the Fetch API refuses to carry (TRACE, CONNECT, TRACK): the
 * platform passes the request without its body and the real method, which is then refused like
 * any other unsupported method (405 with `Allow`, behind the admin gate, audited).
 */
export async function handleForbiddenMethod(
  method: string,
  request: Request,
  services: Services,
  client: ClientInfo,
): Promise<Response> {
  return handleWithMethod(request, method, services, client);
}

async function handleWithMethod(
  request: Request,
  method: string,
  services: Services,
  client: ClientInfo,
): Promise<Response> {
  const requestId = requestIdFor(services);
  const ctx: RequestContext = {
    request,
    method,
    url: new URL(request.url),
    path: requestPath(request, client),
    services,
    requestId,
    params: {},
    failure: {},
    client,
    audit: {},
  };
  const state: { style: ErrorStyle } = { style: 'problem' };
  let response: Response;
  let error: TskError | undefined;
  try {
    response = await dispatch(ctx, state);
  } catch (err) {
    error = asTskError(err, services.logger, requestId);
    if (STATUS_OF[error.code] >= 500) {
      services.logger.log('warn', 'request_failed', {
        request_id: requestId,
        code: error.code,
        message: error.message,
      });
    }
    response = renderError(error, state.style, ctx.failure);
  }
  if (isAdminPath(ctx.path)) await writeAudit(ctx, response.status, error);
  return response;
}

async function dispatch(ctx: RequestContext, state: { style: ErrorStyle }): Promise<Response> {
  const { method, path } = ctx;
  const admin = isAdminPath(path);
  // One rule before routing: a path that is not canonical is refused however it would route.
  const problem = nonCanonical(path);
  if (problem) {
    // Counted by the gate when it reads as admin, so probing with odd spellings is limited too.
    if (admin) await admitAdmin(ctx, undefined);
    throw new TskError('non_canonical_path', `the request path is not canonical: ${problem}`);
  }
  const segments = pathSegments(path);
  const match = matchRoute(ROUTES, segments);
  if (!match) {
    // Unknown admin paths still pass the gate, so probing them is rate limited like the rest.
    if (admin) await admitAdmin(ctx, undefined);
    throw new TskError('not_found', `no route for ${path}`);
  }
  const { route, params } = match;
  state.style = route.errors;
  Object.assign(ctx, { params });
  ctx.audit.route = route.pattern;
  const allowed = Object.keys(route.methods);
  if (method === 'OPTIONS' && !route.role) return preflight(allowed);
  if (route.role) await admitAdmin(ctx, route.role);
  const handler = method === ctx.request.method ? route.methods[method] : undefined;
  if (!handler) {
    throw new TskError(
      'method_not_allowed',
      `${method} is not allowed here; use ${allowed.join(', ')}`,
      {
        details: { allow: allowed.join(', ') },
      },
    );
  }
  return handler(ctx);
}

function preflight(allowed: string[]): Response {
  return new Response(null, {
    status: 204,
    headers: { ...CORS_HEADERS, allow: [...allowed, 'OPTIONS'].join(', ') },
  });
}

async function writeAudit(
  ctx: RequestContext,
  status: number,
  error: TskError | undefined,
): Promise<void> {
  try {
    await ctx.services.audit.write(auditRecord(ctx, status, error));
  } catch (err) {
    // A lost audit line must be visible in the operational log, but cannot undo the request.
    ctx.services.logger.log('error', 'audit_write_failed', {
      request_id: ctx.requestId,
      error: err instanceof Error ? err.name : 'unknown',
    });
  }
}
