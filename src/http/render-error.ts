// Renders an error in its route's style: Trusted Server's JSON shapes on its routes,
// problem+json elsewhere, with `Allow`, `WWW-Authenticate` and `Retry-After` where HTTP wants them.
import type { TskError } from '../core/errors.js';
import { STATUS_OF } from './errors.js';
import {
  ADMIN_HEADERS,
  CORS_HEADERS,
  json,
  problem,
  publicDetails,
  retryAfter,
} from './responses.js';
import type { ErrorStyle } from './router.js';

const WWW_AUTHENTICATE =
  'Bearer realm="trusted-server-keys", Basic realm="trusted-server-keys", charset="UTF-8"';

/** The response for an error. `echo` holds members a handler wants in a compatibility shape. */
export function renderError(
  err: TskError,
  style: ErrorStyle,
  echo: Record<string, unknown>,
): Response {
  const status = STATUS_OF[err.code];
  const extra: Record<string, string> = { ...retryAfter(err) };
  const allow = err.details?.['allow'];
  if (err.code === 'method_not_allowed' && typeof allow === 'string') extra['allow'] = allow;
  if (err.code === 'unauthorized') extra['www-authenticate'] = WWW_AUTHENTICATE;
  // Whether a failed change took effect is the one fact a script must not have to parse from text.
  const outcome = err.details?.['outcome'];
  const compat = {
    ...echo,
    error: err.message,
    code: err.code,
    ...(typeof outcome === 'string' ? { outcome } : {}),
  };
  const admin = { ...ADMIN_HEADERS, ...extra };
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
        admin,
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
        admin,
      );
    case 'sign':
      return json({ success: false, ...compat }, status, admin);
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
