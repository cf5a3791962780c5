// Admin tokens: `<id>.<secret>`, stored in the `admin_tokens` secret store under `<id>` as
// `{"sha256": <hex of SHA-256 of the secret>, "role": "viewer" | "operator"}`. Only the hash is
// stored, and it is compared in constant time.
import * as z from 'zod/mini';
import { fromBase64, toBase64Url, utf8 } from '../crypto/base64.js';
import { TskError } from '../errors.js';
import type { Random } from '../ports.js';

/** What a token may do. */
export type Role = 'viewer' | 'operator';

/** A presented credential, split into its parts. */
export interface Credential {
  id: string;
  secret: string;
}

/** An authenticated caller. Its id is safe to log; the secret never leaves `authenticate`. */
export interface Principal {
  tokenId: string;
  role: Role;
}

const TOKEN_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN_SECRET = /^[A-Za-z0-9_-]{16,256}$/;

/** Bytes of randomness in a new token secret. */
const SECRET_BYTES = 32;

/** True when `id` may name an admin token (it is also the secret's name in `admin_tokens`). */
export function isTokenId(id: string): boolean {
  return TOKEN_ID.test(id);
}

/** A new token secret: 32 random bytes as base64url (43 characters). */
export function newTokenSecret(random: Random): string {
  return toBase64Url(random.bytes(SECRET_BYTES));
}

/** Splits a token `<id>.<secret>`; null when either part breaks the rules. */
export function parseToken(token: string): Credential | null {
  const dot = token.indexOf('.');
  if (dot < 0) return null;
  const [id, secret] = [token.slice(0, dot), token.slice(dot + 1)];
  return TOKEN_ID.test(id) && TOKEN_SECRET.test(secret) ? { id, secret } : null;
}

const RecordSchema = z.object({
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  role: z.enum(['viewer', 'operator']),
});

/** The stored record for a token secret. */
export async function tokenRecord(secret: string, role: Role): Promise<string> {
  return JSON.stringify({ sha256: await sha256Hex(secret), role });
}

/** Splits `Authorization: Bearer <id>.<secret>` or `Basic base64(<id>:<secret>)`; null if malformed. */
export function parseAuthorization(header: string | null): Credential | null {
  if (header === null) return null;
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header);
  if (!match) return null;
  const scheme = match[1]?.toLowerCase();
  const value = match[2] ?? '';
  if (scheme === 'bearer') return parseToken(value);
  const decoded = fromBase64(value);
  if (!decoded) return null;
  const text = new TextDecoder().decode(decoded);
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  // Basic carries the same pair with a colon; it obeys the same rules.
  return parseToken(`${text.slice(0, colon)}.${text.slice(colon + 1)}`);
}

/**
 * Checks a credential against its stored record. Unknown ids still hash and compare, so timing
 * does not tell which ids exist. A stored record that does not parse is refused, not trusted.
 */
export async function authenticate(
  credential: Credential,
  stored: string | null,
): Promise<Principal> {
  let record: z.infer<typeof RecordSchema> | null = null;
  if (stored !== null) {
    try {
      const parsed = RecordSchema.safeParse(JSON.parse(stored));
      record = parsed.success ? parsed.data : null;
    } catch {
      record = null;
    }
  }
  const presented = await sha256Hex(credential.secret);
  const expected = record?.sha256 ?? '0'.repeat(64);
  if (!constantTimeEqual(presented, expected) || !record) {
    throw new TskError('unauthorized', 'invalid admin token');
  }
  return { tokenId: credential.id, role: record.role };
}

/** Throws `forbidden` unless the principal's role allows `needed`. */
export function authorize(principal: Principal, needed: Role): void {
  if (needed === 'operator' && principal.role !== 'operator') {
    throw new TskError(
      'forbidden',
      `token "${principal.tokenId}" has role ${principal.role}; this route needs operator`,
    );
  }
}

/** SHA-256 of UTF-8 text as lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
