// Response builders and the headers each kind of route carries.
import type { TskError } from '../core/errors.js';
import { STATUS_OF, TITLE_OF } from './errors.js';

/** Headers on every admin response: never cached, never sniffed. */
export const ADMIN_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** Headers that let browsers on any origin read the public routes. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, if-none-match',
  'access-control-expose-headers': 'etag',
  'access-control-max-age': '86400',
};

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** An RFC 9457 problem+json response for an error, with its stable `code`. */
export function problem(err: TskError, extra: Record<string, unknown> = {}): Response {
  const status = STATUS_OF[err.code];
  // Details first, so no detail can overwrite a member RFC 9457 defines (or our `code`).
  const body = {
    ...publicDetails(err),
    ...extra,
    type: `https://trusted-server-keys.dev/problems/${err.code}`,
    title: TITLE_OF[err.code],
    status,
    detail: err.message,
    code: err.code,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...ADMIN_HEADERS, ...retryAfter(err) },
  });
}

/**
 * Details safe to show a client (everything the core attaches is built to be safe). A failed
 * Fastly API call's own status is `upstream_status`, never to be taken for this answer's status.
 */
export function publicDetails(err: TskError): Record<string, unknown> {
  if (!err.details) return {};
  const { issues: _issues, body: _body, status, ...rest } = err.details;
  return status === undefined ? rest : { ...rest, upstream_status: status };
}

/** `Retry-After` for errors that carry a wait. */
export function retryAfter(err: TskError): Record<string, string> {
  const seconds = err.details?.['retryAfterSeconds'];
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
    ? { 'retry-after': String(Math.ceil(seconds)) }
    : {};
}
