// Reading a JSON request body: bounded before parsing, typed by content, validated against the
// route's zod/mini schema, and refused with a clear status (413, 415, 400) rather than parsed
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
 * A content type other than JSON is refused, so form posts cannot reach a JSON route by accident.
 */
export async function readJson(request: Request, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  // The type is checked first, even for an empty body: a cross-site form post (form-urlencoded,
  // multipart or text/plain, the types a browser sends without a preflight) must never reach a
  // JSON route.
  const type = request.headers.get('content-type');
  if (type !== null && !isJsonType(type)) {
    throw new TskError(
      'unsupported_media_type',
      `send the body as application/json, not ${type.split(';')[0]}`,
    );
  }
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
    throw new TskError('invalid_request', 'invalid JSON request body');
  }
}

function isJsonType(type: string): boolean {
  const essence = type.split(';')[0]?.trim().toLowerCase() ?? '';
  return essence === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
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
