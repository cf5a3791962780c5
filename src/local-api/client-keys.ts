// Client-side encryption of secrets, as Fastly offers it (fastly/fixtures/secret_store/
// TestClient_CreateSecret_clientEncryption): `POST /resources/stores/secret/client-key` hands out
// a short-lived X25519 public key `{public_key, signature, expires_at}` signed with Ed25519;
// `GET /resources/stores/secret/signing-key` answers `{signing_key}`; a secret sealed to the
// client key arrives with `client_key` set to that public key. The local signing key is not
// Fastly's, so the Fastly CLI accepts it only with FASTLY_USE_API_SIGNING_KEY=1.
import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { badRequest } from './errors.js';
import type { Reply, Route } from './router.js';
import { json } from './router.js';
import { openSealedBox, rawPublicKey } from './sealed-box.js';

/** How long a client key can be used; Fastly's last about 10 minutes. */
const CLIENT_KEY_TTL_MS = 10 * 60 * 1000;

/** Issues client keys and unseals secrets that clients encrypted to them. */
export interface ClientKeys {
  /** A new client key: `{public_key, signature, expires_at}`. */
  issue(): Record<string, string>;
  /** The Ed25519 public key that signs client keys, base64. */
  signingKey(): string;
  /** The plaintext of `sealed`, encrypted to the client key `clientKey` (base64); else a 400. */
  open(clientKey: string, sealed: Uint8Array): Uint8Array;
}

/** A keyring living in memory: client keys expire long before a restart would matter. */
export function createClientKeys(now: () => number = Date.now): ClientKeys {
  const signer = generateKeyPairSync('ed25519');
  const issued = new Map<string, { privateKey: KeyObject; expiresAt: number }>();
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

  const purge = (): void => {
    for (const [key, entry] of issued) if (entry.expiresAt <= now()) issued.delete(key);
  };

  return {
    issue() {
      purge();
      const { privateKey, publicKey } = generateKeyPairSync('x25519');
      const raw = rawPublicKey(publicKey);
      const expiresAt = now() + CLIENT_KEY_TTL_MS;
      issued.set(b64(raw), { privateKey, expiresAt });
      return {
        public_key: b64(raw),
        signature: b64(sign(null, raw, signer.privateKey)),
        expires_at: new Date(expiresAt).toISOString(),
      };
    },
    signingKey: () => b64(rawPublicKey(signer.publicKey)),
    open(clientKey, sealed) {
      purge();
      const entry = issued.get(clientKey);
      if (entry === undefined) {
        throw badRequest('Invalid client_key', 'unknown or expired client key; request a new one');
      }
      const plaintext = openSealedBox(sealed, entry.privateKey);
      if (plaintext === null) {
        throw badRequest(
          'Invalid secret',
          'could not decrypt the secret with the given client_key',
        );
      }
      return plaintext;
    },
  };
}

/** Routes for client keys; listed before `/resources/stores/secret/{id}` so they win. */
export function clientKeyRoutes(keys: ClientKeys): Route[] {
  const issue = (): Reply => json(200, keys.issue());
  const signing = (): Reply => json(200, { signing_key: keys.signingKey() });
  return [
    { pattern: '/resources/stores/secret/client-key', methods: { POST: issue } },
    { pattern: '/resources/stores/secret/signing-key', methods: { GET: signing } },
  ];
}
