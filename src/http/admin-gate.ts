// The door of every admin request: authentication, rate limits, the penalty box for repeated
// failed logins, then the role check.
//
// Who answers for a request decides which limits apply. A request with a valid token answers for
// itself: only that token's rate limit applies, never its IP's, because an IP is shared (a NAT,
// an office) and others' failures or traffic from it must not lock the operator out. A request
// without valid credentials has only its IP to answer for it: the IP's penalty box and rate
// limit apply, and a wrong or missing credential counts as a failed login from that IP, even
// while it is boxed, so failing on keeps a client boxed.
//
// The token is therefore checked before the penalty box is consulted, in constant time as always
// (unknown ids are hashed and compared too). A boxed client learns nothing it would not learn
// unboxed: a valid token works either way, and every other attempt is refused with the same 429
// while still counted as a failure.
import {
  authenticate,
  authorize,
  parseAuthorization,
  type Principal,
  type Role,
} from '../core/auth/admin-token.js';
import { TskError } from '../core/errors.js';
import type { RequestContext } from './context.js';
import { STORE_NAMES } from './services.js';

const WINDOW_SECONDS = 60;

/**
 * Throws `rate_limited` (429) or `unauthorized` / `forbidden`; sets `ctx.principal` on success.
 * `role` is undefined for admin-area paths that match no route (unknown, malformed or not
 * canonical): they are counted like any admin request, and the caller answers them.
 */
export async function admitAdmin(ctx: RequestContext, role: Role | undefined): Promise<void> {
  const { rateLimiter, settings } = ctx.services;
  const limits = settings.admin;
  const clientKey = `ip:${ctx.client.ip}`;

  const credential = await parseAuthorization(ctx.request.headers.get('authorization'));
  let principal: Principal | undefined;
  let refusal: unknown;
  if (credential) {
    ctx.audit.actor = credential.id;
    const stored = await ctx.services.secretStore(STORE_NAMES.adminTokens).get(credential.id);
    try {
      principal = await authenticate(credential, stored);
    } catch (err) {
      refusal = err;
    }
  }

  if (principal) {
    ctx.principal = principal;
    if (
      (await rateLimiter.increment('admin_requests', `token:${principal.tokenId}`)) >
      limits.requests_per_minute
    ) {
      throw limited(
        `more than ${limits.requests_per_minute} admin requests a minute with token "${principal.tokenId}"`,
      );
    }
    if (role) authorize(principal, mutating(ctx.method) ? 'operator' : role);
    return;
  }

  // No valid credentials: the client's IP answers for the request. A wrong token is a failed
  // login wherever it is sent; a missing one only where a route needs one.
  const failed = credential !== null || role !== undefined;
  const wait = await rateLimiter.penaltySeconds(clientKey);
  if (wait > 0) {
    if (failed) await authFailed(ctx, clientKey);
    throw new TskError(
      'rate_limited',
      `too many failed authentications from this client; try again in ${wait} s`,
      { details: { retryAfterSeconds: wait } },
    );
  }
  if ((await rateLimiter.increment('admin_requests', clientKey)) > limits.requests_per_minute) {
    throw limited(
      `more than ${limits.requests_per_minute} admin requests a minute from this client`,
    );
  }
  if (failed) await authFailed(ctx, clientKey);
  if (!role) return; // an unknown admin path: counted, then answered by the caller
  throw (
    refusal ??
    new TskError(
      'unauthorized',
      'send an admin token: Authorization: Bearer <id>.<secret> (or Basic with an imported username and password)',
    )
  );
}

/** Methods that change state need the operator role even on routes viewers may read. */
function mutating(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

async function authFailed(ctx: RequestContext, clientKey: string): Promise<void> {
  const { rateLimiter, settings, logger } = ctx.services;
  const failures = await rateLimiter.increment('auth_failures', clientKey);
  if (failures >= settings.admin.auth_failures_per_minute) {
    await rateLimiter.penalize(clientKey, settings.admin.penalty_minutes);
    logger.log('warn', 'admin_client_penalized', {
      request_id: ctx.requestId,
      client_ip: ctx.client.ip,
      minutes: settings.admin.penalty_minutes,
    });
  }
}

function limited(message: string): TskError {
  return new TskError('rate_limited', `${message}; slow down`, {
    details: { retryAfterSeconds: WINDOW_SECONDS },
  });
}
