// Key ids: Trusted Server's `ts-YYYY-MM-DD` default, operator-chosen ids, and the rules both obey.
import { TskError } from '../errors.js';
import type { Random } from '../ports.js';

/** Longest kid accepted. */
export const MAX_KID_LENGTH = 128;

const KID_CHARS = /^[A-Za-z0-9._-]+$/;

/** Config-store keys the service itself uses; a kid must never shadow one of them. */
export const RESERVED_ITEM_KEYS: ReadonlySet<string> = new Set([
  'current-kid',
  'active-kids',
  'keyring',
  'jwks-document',
  'discovery-document',
  'key-log',
]);

/**
 * Why `kid` cannot name an existing key, or null when it can. Secret names allow only
 * letters, digits, `-`, `_` and `.`, and `active-kids` is comma-joined, so nothing else fits.
 */
export function kidFormatProblem(kid: string): string | null {
  if (kid.length < 1 || kid.length > MAX_KID_LENGTH)
    return `kid must be 1 to ${MAX_KID_LENGTH} characters`;
  if (!KID_CHARS.test(kid)) return "kid may contain only ASCII letters, digits, '.', '_' and '-'";
  return null;
}

/** Throws `invalid_kid` unless `kid` is well-formed for a lookup of an existing key. */
export function assertKidFormat(kid: string): void {
  const problem = kidFormatProblem(kid);
  if (problem) throw new TskError('invalid_kid', problem);
}

/** Throws `invalid_kid` unless `kid` may name a new key (also: lowercase first letter, not reserved). */
export function assertNewKid(kid: string): void {
  assertKidFormat(kid);
  if (!/^[a-z]/.test(kid))
    throw new TskError('invalid_kid', 'kid must start with a lowercase ASCII letter');
  if (RESERVED_ITEM_KEYS.has(kid)) throw new TskError('invalid_kid', `kid "${kid}" is reserved`);
}

/** Trusted Server's default kid for a moment: `ts-YYYY-MM-DD` in UTC. */
export function dateKid(nowMs: number): string {
  return `ts-${new Date(nowMs).toISOString().slice(0, 10)}`;
}

/**
 * A kid for a new key: `base` if unused, else `base-<8 hex>`. The suffix is random rather than
 * a counter so a removed kid is never reissued for a different key (partners cache by kid).
 */
export function uniqueKid(base: string, taken: (kid: string) => boolean, random: Random): string {
  if (!taken(base)) return base;
  for (let attempt = 0; attempt < 8; attempt++) {
    const hex = Array.from(random.bytes(4), (b) => b.toString(16).padStart(2, '0')).join('');
    const kid = `${base}-${hex}`;
    if (!taken(kid)) return kid;
  }
  throw new TskError('internal', 'could not find an unused kid');
}
