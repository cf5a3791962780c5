// Whether a key set's key material can sign (docs/architecture.md, "Unusable keys"): its JWK's
// `x` is an Ed25519 point, its private key exists, and the private key derives that `x`. The
// management API cannot read a secret back, so the last check reads the private key the way the
// edge does (`EdgeSecrets`), which is also what Trusted Server's signer reads.
import { toBase64Url } from '../crypto/base64.js';
import { isValidPublicKey, publicKeyOf } from '../crypto/ed25519.js';
import { TskError } from '../errors.js';
import { jwkPublicKey, type PublicJwk } from '../keys/jwk.js';
import { decodeSeed } from '../keys/seed-encoding.js';
import type { EdgeSecrets } from '../ports.js';
import type { Keyset, Unusable } from './document.js';

/** What is known of a key set's private keys without reading one. */
export interface MaterialFacts {
  /** Names in the deployment's secret store (the management API's list), when read. */
  secretNames?: ReadonlySet<string>;
}

/** The problem visible without reading the private key: an invalid `x` or no private key. */
export function materialProblem(
  id: string,
  jwk: PublicJwk,
  facts: MaterialFacts,
): Unusable | undefined {
  if (!isValidPublicKey(jwkPublicKey(jwk))) {
    return {
      code: 'key_material_invalid',
      reason: `the JWK's x is not an Ed25519 public key: nothing can verify a signature by ${id}`,
    };
  }
  if (facts.secretNames && !facts.secretNames.has(id)) {
    return {
      code: 'key_material_missing',
      reason: `no private key named ${id} in the secret store: it cannot sign`,
    };
  }
  return undefined;
}

/**
 * Reads a private key as the edge does and compares it with the JWK. Resolves to the problem,
 * `undefined` when it matches, or `'unseen'` when the edge cannot read it (yet).
 */
export async function probeMaterial(
  id: string,
  jwk: PublicJwk,
  privateKeys: EdgeSecrets,
): Promise<Unusable | undefined | 'unseen'> {
  const stored = await privateKeys.get(id);
  if (stored === null) return 'unseen';
  let seed: Uint8Array;
  try {
    seed = decodeSeed(stored, id);
  } catch {
    return {
      code: 'key_material_invalid',
      reason: `the private key of ${id} is not a base64 32-byte Ed25519 seed`,
    };
  }
  if (toBase64Url(await publicKeyOf(seed)) !== jwk.x) {
    return {
      code: 'key_material_mismatch',
      reason: `the private key of ${id} does not derive the x of its JWK: its signatures would not verify`,
    };
  }
  return undefined;
}

/** The refusal of activating (or restoring) an unusable key set: 409 with the problem's code. */
export function unusableError(keyset: Keyset, unusable: Unusable, operation: string): TskError {
  return new TskError(unusable.code, `cannot ${operation} ${keyset.id}: ${unusable.reason}`, {
    details: { keyset: keyset.id, unusable },
  });
}

/**
 * Before `activate` commits: the key set is not flagged unusable, its private key exists (the
 * management API's list) and, read as the edge reads it, derives the JWK's `x`. A private key the
 * list has but the edge cannot read yet (secret stores propagate in seconds) is refused with
 * `key_not_propagated`: activating it would make the signer fail until it arrives.
 */
export async function assertActivatable(
  keyset: Keyset,
  operation: string,
  facts: MaterialFacts & { privateKeys?: EdgeSecrets },
): Promise<void> {
  if (keyset.unusable) throw unusableError(keyset, keyset.unusable, operation);
  const seen = materialProblem(keyset.id, keyset.jwk, facts);
  if (seen) throw unusableError(keyset, seen, operation);
  if (operation === 'restore' || !facts.privateKeys) return;
  const probed = await probeMaterial(keyset.id, keyset.jwk, facts.privateKeys);
  if (probed === 'unseen') {
    throw new TskError(
      'key_not_propagated',
      `the private key of ${keyset.id} exists but the edge cannot read it yet; retry in a minute`,
      { details: { keyset: keyset.id, retryAfterSeconds: 60 } },
    );
  }
  if (probed) throw unusableError(keyset, probed, operation);
}
