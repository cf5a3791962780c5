// Admin tokens: `<id>.<secret>`, stored in the `admin_tokens` secret store under `<id>` as
// `{"sha256": <hex of SHA-256 of the secret>, "role": "viewer" | "operator"}`. Only the hash is
// stored, and it is compared in constant time.
//
// Trusted Server's HTTP Basic credentials (its `[[handlers]]` username and password, any
// characters) can be imported as tokens too. Their entry is named after the username (the
// username itself when it is a valid token id, else `basic-<base64url SHA-256 of it>`), so the
// gate finds it with the one secret-store read a Bearer token costs. A password is chosen by a
// person, not drawn at random, so its record adds a per-entry `salt` (22 base64url characters)
// and `sha256` is the hash of the salt's text followed by the password's: equal passwords do not
// give equal records, and a leaked record cannot be looked up in a precomputed table.
import * as z from 'zod/mini';
import { fromBase64, toBase64Url, utf8 } from '../crypto/base64.js';
import { TskError } from '../errors.js';
import type { Random } from '../ports.js';

/** What a token may do. */
export type Role = 'viewer' | 'operator';

/** A presented credential, split into its parts. */
export interface Credential {
  /** The `admin_tokens` entry it names (a token id); safe to log. */
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

const SALT = /^[A-Za-z0-9_-]{22}$/;

const RecordSchema = z.object({
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  role: z.enum(['viewer', 'operator']),
  // Only on imported Basic credentials. A record with a salt an older version does not know is
  // refused by it (the unsalted hash never matches), never accepted by mistake.
  salt: z.optional(z.string().check(z.regex(SALT))),
});

/** The stored record for a token secret. */
export async function tokenRecord(secret: string, role: Role): Promise<string> {
  return JSON.stringify({ sha256: await sha256Hex(secret), role });
}

/** Bytes of randomness in a Basic credential's salt (22 base64url characters). */
const SALT_BYTES = 16;

/** The `admin_tokens` entry a Basic username is stored under and looked up by. */
export async function basicEntryName(username: string): Promise<string> {
  return TOKEN_ID.test(username) ? username : `basic-${await sha256Base64Url(username)}`;
}

/**
 * The stored record for an imported Basic password: a fresh salt and the hash of salt + password.
 * The caller checks the username and password with `basicCredentialProblem` first.
 */
export async function basicRecord(password: string, role: Role, random: Random): Promise<string> {
  const salt = toBase64Url(random.bytes(SALT_BYTES));
  return JSON.stringify({ sha256: await sha256Hex(salt + password), role, salt });
}

/**
 * Why a Basic username/password pair could never authenticate, or null. Trusted Server takes
 * any non-empty text; a username with a colon cannot be sent (Basic splits at the first colon).
 */
export function basicCredentialProblem(username: string, password: string): string | null {
  if (username.length === 0) return 'the username is empty';
  if (username.includes(':')) return 'the username contains ":", which HTTP Basic cannot carry';
  if (password.length === 0) return 'the password is empty';
  return null;
}

/**
 * Splits `Authorization: Bearer <id>.<secret>` or `Basic base64(<user>:<password>)`; null if
 * malformed. A Basic pair names the entry `basicEntryName(user)`: a token id with its secret, as
 * before, or an imported Trusted Server credential (any characters).
 */
export async function parseAuthorization(header: string | null): Promise<Credential | null> {
  if (header === null) return null;
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header);
  if (!match) return null;
  const scheme = match[1]?.toLowerCase();
  const value = match[2] ?? '';
  if (scheme === 'bearer') return parseToken(value);
  const decoded = fromBase64(value);
  if (!decoded) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(decoded);
  } catch {
    return null;
  }
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const [username, password] = [text.slice(0, colon), text.slice(colon + 1)];
  if (basicCredentialProblem(username, password) !== null) return null;
  return { id: await basicEntryName(username), secret: password };
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
  // Salted or not, exactly one hash of the presented secret, so the time taken does not say
  // which kind of entry (if any) the id names.
  const presented = await sha256Hex((record?.salt ?? '') + credential.secret);
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

/** SHA-256 of UTF-8 text as unpadded base64url (43 characters). */
async function sha256Base64Url(text: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
