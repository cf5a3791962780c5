// The partner's side of verification, done here with nothing of the service's: take the JWKS as
// published, let jose pick the key by kid (`createLocalJWKSet` refuses a JWKS it cannot read, a kid
// it does not list or a key that is not EdDSA), and check the signature with WebCrypto's Ed25519.
//
// Not a JWS: Trusted Server signs the payload text itself with raw Ed25519, while a JWS signs
// `BASE64URL(header).payload`, so jose's `flattenedVerify` cannot check these signatures. jose is
// used for what it is right for here: reading a JWKS and importing the JWK.
import { createLocalJWKSet, errors } from 'jose';
import { fromEitherBase64, utf8 } from '../core/crypto/base64.js';
import { checkTaintCutoff } from '../core/keyring/taint-cutoff.js';
import { endorsedKeys, isKeyLog, keyLogProblem, parseKeyLog } from '../core/keyring/key-log.js';

/** The outcome, in the words of the edge's `/verify-signature`. */
export type PartnerCheck =
  | { verified: true }
  | { verified: false; reason: 'unknown_kid' | 'malformed_signature' | 'invalid_signature' };

/** Verifies `signature` (base64url or padded base64) over `payload` with `kid` from `jwks`. */
export async function verifyWithJwks(
  jwks: unknown,
  kid: string,
  payload: string,
  signature: string,
): Promise<PartnerCheck> {
  // Throws JWKSInvalid for anything that is not `{"keys":[...]}`: the caller reports it.
  const select = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  let key: CryptoKey;
  try {
    key = await select({ alg: 'EdDSA', kid });
  } catch (err) {
    if (err instanceof errors.JWKSNoMatchingKey) return { verified: false, reason: 'unknown_kid' };
    throw err;
  }
  const bytes = fromEitherBase64(signature);
  if (!bytes || bytes.length !== 64) return { verified: false, reason: 'malformed_signature' };
  const ok = await crypto.subtle.verify('Ed25519', key, new Uint8Array(bytes), utf8(payload));
  return ok ? { verified: true } : { verified: false, reason: 'invalid_signature' };
}

/** A local check's outcome, the taint cutoff's refusals included. */
export type LocalCheck =
  | PartnerCheck
  | {
      verified: false;
      reason: 'signed_after_taint_cutoff' | 'tainted_key_payload_without_ts';
      detail: string;
    };

/**
 * The publisher's taint cutoff, as its `/verify-signature` applies it: a kid the discovery
 * document lists in `tainted_kids` with a time in `taint_cutoffs` verifies only a payload whose
 * `ts` is before it. A document without them (a bare JWKS) has nothing to apply.
 */
export function applyTaintCutoff(
  doc: Record<string, unknown>,
  kid: string,
  payload: string,
): LocalCheck {
  const tainted = doc['tainted_kids'];
  const cutoffs = doc['taint_cutoffs'];
  if (!Array.isArray(tainted) || !tainted.includes(kid)) return { verified: true };
  if (typeof cutoffs !== 'object' || cutoffs === null) return { verified: true };
  const at = (cutoffs as Record<string, unknown>)[kid];
  const cutoffMs = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  if (!Number.isFinite(cutoffMs)) return { verified: true };
  const refused = checkTaintCutoff(kid, cutoffMs, payload);
  return refused
    ? { verified: false, reason: refused.error, detail: refused.reason }
    : { verified: true };
}

/** What the key log says of one published key (docs/key-log.md). */
export type ChainCheck =
  | { ok: true; rootFingerprint: string }
  | { ok: false; reason: 'unendorsed_key' | 'key_log_unavailable'; detail: string };

/**
 * The partner verifier's chain rule, for `tsctl verify --local`: the log (its text, or null when
 * the publisher has none) must verify from its root, the root must be `pin` when one is given,
 * and the log must vouch for `kid` with the very `x` the JWKS publishes.
 */
export async function checkKeyLogChain(
  text: string | null,
  kid: string,
  x: string,
  pin: string | undefined,
): Promise<ChainCheck> {
  const log = parseKeyLog(text);
  if (log === null) {
    return {
      ok: false,
      reason: 'key_log_unavailable',
      detail: 'the publisher publishes no key log (add --skip-key-log for Trusted Server alone)',
    };
  }
  if (!isKeyLog(log)) return { ok: false, reason: 'key_log_unavailable', detail: log.invalid };
  const problem = await keyLogProblem(log);
  if (problem !== null) return { ok: false, reason: 'key_log_unavailable', detail: problem };
  if (pin !== undefined && log.root_fingerprint !== pin) {
    return {
      ok: false,
      reason: 'key_log_unavailable',
      detail: `the key log's root ${log.root_fingerprint} is not the pinned root ${pin}`,
    };
  }
  const endorsed = endorsedKeys(log).get(kid);
  if (endorsed === x) return { ok: true, rootFingerprint: log.root_fingerprint };
  return {
    ok: false,
    reason: 'unendorsed_key',
    detail:
      endorsed === undefined
        ? `the key log does not endorse ${kid}`
        : `${kid} is published with another public key than the key log endorsed`,
  };
}
