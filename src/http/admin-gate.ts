// The door of every admin route: the penalty box, per-client and per-token rate limits, then
// authentication and the role check. Failed authentications count toward the penalty box.
import {
  authenticate,
  authorize,
  parseAuthorization,
  type Role,
} from '../core/auth/admin-token.js';
import { TskError } from '../core/errors.js';
import type { RequestContext } from './context.js';
import { STORE_NAMES } from './services.js';

const WINDOW_SECONDS = 60;

/** Throws `rate_limited` (429) or `unauthorized` / `forbidden`; sets `ctx.principal` on success. */
export async function admitAdmin(ctx: RequestContext, role: Role | undefined): Promise<void> {
  const { rateLimiter, settings } = ctx.services;
  const limits = settings.admin;
  const clientKey = `ip:${ctx.client.ip}`;

  const wait = await rateLimiter.penaltySeconds(clientKey);
  if (wait > 0) {
    throw new TskError(
      'rate_limited',
      `too many failed authentications from this client; try again in ${wait} s`,
      {
        details: { retryAfterSeconds: wait },
      },
    );
  }
  if ((await rateLimiter.increment('admin_requests', clientKey)) > limits.requests_per_minute) {
    throw limited(
      `more than ${limits.requests_per_minute} admin requests a minute from this client`,
    );
  }
  if (!role) return; // an unknown admin path: counted, then answered 404 by the caller

  const credential = parseAuthorization(ctx.request.headers.get('authorization'));
  if (!credential) {
    await authFailed(ctx, clientKey);
    throw new TskError('unauthorized', 'send an admin token: Authorization: Bearer <id>.<secret>');
  }
  ctx.audit.actor = credential.id;
  const stored = await ctx.services.secretStore(STORE_NAMES.adminTokens).get(credential.id);
  try {
    ctx.principal = await authenticate(credential, stored);
  } catch (err) {
    await authFailed(ctx, clientKey);
    throw err;
  }
  if (
    (await rateLimiter.increment('admin_requests', `token:${credential.id}`)) >
    limits.requests_per_minute
  ) {
    throw limited(
      `more than ${limits.requests_per_minute} admin requests a minute with token "${credential.id}"`,
    );
  }
  authorize(ctx.principal, mutating(ctx.method) ? 'operator' : role);
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
