// Reading a JSON request body: bounded before parsing, typed by content, and refused with a
// clear status (413, 415, 400) rather than parsed leniently.
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

/** Like `readJson`, for routes whose body is optional: only an absent body becomes `{}`. */
export async function readJsonOrEmpty(
  request: Request,
  maxBytes = MAX_BODY_BYTES,
): Promise<unknown> {
  const body = await readJson(request, maxBytes);
  // `null` and every other JSON value are judged as sent: `null` is not "no body".
  return body === undefined ? {} : body;
}
