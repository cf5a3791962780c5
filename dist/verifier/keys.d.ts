/** Which implementation checks signatures: `auto` tries WebCrypto first. */
export type CryptoChoice = 'auto' | 'webcrypto' | 'noble';
/** One published public key, ready to verify with. */
export interface PublicKey {
    kid: string;
    /** The 32 raw bytes of `x`. */
    raw: Uint8Array;
    /** The WebCrypto key when the runtime has Ed25519; null means @noble/ed25519 checks. */
    webcrypto: CryptoKey | null;
}
/** Most keys a document may list; a publisher keeps a handful. */
export declare const MAX_KEYS = 64;
/**
 * The Ed25519 public keys of a JWKS `keys` array, by kid. A member that is not a well-formed
 * Ed25519 public JWK is skipped (a partner must not fail on a key type it does not use), and so
 * is a JWK carrying a private part (`d`) or a kid listed twice: both are the publisher's mistake,
 * and neither may be guessed around.
 */
export declare function importKeys(keys: readonly unknown[], choice: CryptoChoice): Promise<Map<string, PublicKey>>;
/** Verifies an Ed25519 signature; false (never an exception) for anything that does not verify. */
export declare function verifyEd25519(key: PublicKey, signature: Uint8Array, message: Uint8Array): Promise<boolean>;
