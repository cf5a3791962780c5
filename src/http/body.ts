// Reading a JSON request body: bounded before parsing, typed by content, validated against the
// route's zod/mini schema, and refused with a clear status (413, 415, 403, 400) rather than parsed
// leniently. Every route reads its body through `parseBody`, so every refusal reads alike.
import * as z from 'zod/mini';
import { TskError } from '../core/errors.js';

/** The limit Trusted Server applies to admin and verify bodies. */
export const MAX_BODY_BYTES = 4096;

/** Reads at most `maxBytes` of the body; `payload_too_large` as soon as it is exceeded. */
export async function readBodyCapped(
  request: Request,
  maxBytes = MAX_BODY_BYTES,
): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (err) {
      // The platform ends a body it cannot finish (a timeout, a client that went away) with a
      // TskError saying which; anything else is a body that could not be read.
      if (err instanceof TskError) throw err;
      throw new TskError('invalid_request', 'the request body could not be read');
    }
    const { done, value } = next;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads and parses a JSON body. An empty body is `undefined` (callers decide if that is allowed).
 *
 * Trusted Server's documented scripts send JSON with curl's defaults: `curl -d '{}'` labels it
 * `application/x-www-form-urlencoded`, `curl -X POST` sends no body and no type. Those are read
 * as JSON too. The same "simple" types are what a browser sends cross-site without a CORS
 * preflight (a `<form>` post, carrying any Basic credentials the browser cached), so a request
 * that is not labelled JSON must also not come from another site (`refuseCrossSite`). A JSON
 * type needs a preflight cross-site, which only the public routes grant. Multipart and every
 * other type stay refused (415).
 */
export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  // The type and the origin are judged first, even for an empty body: a cross-site form post
  // must never reach a JSON route, whatever it carries.
  const type = request.headers.get('content-type');
  const kind = type === null ? 'none' : bodyType(type);
  if (kind === 'refused') {
    throw new TskError(
      'unsupported_media_type',
      `send the body as application/json, not ${essenceOf(type ?? '')}`,
    );
  }
  if (kind !== 'json') refuseCrossSite(request);
  const bytes = await readBodyCapped(request, maxBytes);
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TskError('invalid_request', 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    // A form-encoded body (`kid=x`) is not read as fields: the routes speak JSON only.
    throw new TskError(
      'invalid_request',
      kind === 'json' || kind === 'none'
        ? 'invalid JSON request body'
        : `invalid JSON request body (sent as ${essenceOf(type ?? '')}; the body must be JSON whatever its label)`,
    );
  }
}

/** How a declared content type is read: as JSON, as JSON under a simple type, or refused. */
function bodyType(type: string): 'json' | 'simple' | 'refused' {
  const essence = essenceOf(type);
  if (essence === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(essence)) {
    return 'json';
  }
  // curl -d's default and what a plain-text script sends; multipart stays refused (its body is
  // never JSON, and a form upload has no business on these routes).
  if (essence === 'application/x-www-form-urlencoded' || essence === 'text/plain') return 'simple';
  return 'refused';
}

function essenceOf(type: string): string {
  return type.split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Throws `cross_site_request` (403) for a request a browser sent on behalf of another site:
 * `Sec-Fetch-Site` says `cross-site` or `same-site` (`same-origin` and `none`, a typed URL, are
 * fine), or an `Origin` is present that is not this request's own (`null` included). Clients
 * that are not browsers (curl, scripts) send neither header and pass.
 */
export function refuseCrossSite(request: Request): void {
  const site = request.headers.get('sec-fetch-site')?.trim().toLowerCase();
  if (site === 'cross-site' || site === 'same-site') {
    throw new TskError(
      'cross_site_request',
      `refused: a ${site} browser request may not post to this route (Sec-Fetch-Site: ${site})`,
    );
  }
  const origin = request.headers.get('origin');
  if (origin === null) return;
  const own = ownOrigin(request);
  if (own === undefined || originOf(origin) !== own) {
    throw new TskError(
      'cross_site_request',
      'refused: the request comes from another origin than this service (Origin header)',
    );
  }
}

/** An `Origin` header normalised as a URL origin (`null` and garbage: undefined). */
function originOf(header: string): string | undefined {
  try {
    const origin = new URL(header.trim()).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/**
 * The origin a browser on this service would send: the request URL's scheme with the `Host` the
 * client addressed (the local Node edge builds its URLs on a fixed host, so the header decides).
 */
function ownOrigin(request: Request): string | undefined {
  try {
    const url = new URL(request.url);
    const host = request.headers.get('host')?.trim();
    return new URL(`${url.protocol}//${host || url.host}`).origin;
  } catch {
    return undefined;
  }
}

function tooLarge(maxBytes: number): TskError {
  return new TskError('payload_too_large', `the request body is over ${maxBytes} bytes`);
}

/** What a route accepts as its body. */
export interface BodyRule<T> {
  readonly schema: z.ZodMiniType<T>;
  /** The accepted body as a client would write it; every refusal names it. */
  readonly expected: string;
  /** An absent body stands for `{}` (routes whose every field is optional). */
  readonly optional: boolean;
}

/** A route's body rule: `schema`, described to clients as `expected`. */
export function bodyRule<T>(
  schema: z.ZodMiniType<T>,
  expected: string,
  options: { optional?: boolean } = {},
): BodyRule<T> {
  return { schema, expected, optional: options.optional ?? false };
}

/** For routes that take no fields: any JSON, or nothing, still bounded and typed. */
export const NO_FIELDS = bodyRule(z.unknown(), 'no body', { optional: true });

/**
 * Reads the body (see `readJson`) and validates it. Refusals are 400 `invalid_request` naming
 * the path of the first bad field (`body` for the whole) and the body the route expects.
 */
export async function parseBody<T>(
  request: Request,
  rule: BodyRule<T>,
  maxBytes = MAX_BODY_BYTES,
): Promise<T> {
  const read = await readJson(request, maxBytes);
  // Only an absent body stands for `{}`: `null` and every other JSON value are judged as sent.
  const value = read === undefined && rule.optional ? {} : read;
  if (value === undefined) {
    throw new TskError('invalid_request', `a JSON body is required: expected ${rule.expected}`);
  }
  const result = rule.schema.safeParse(value);
  if (!result.success) {
    const field = result.error.issues[0]?.path.join('.') || 'body';
    throw new TskError(
      'invalid_request',
      `invalid request body at ${field}: expected ${rule.expected}`,
    );
  }
  return result.data;
}
