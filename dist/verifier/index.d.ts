import type { CryptoChoice } from './keys.js';
import { type SignedPayload } from './payload.js';
export type { SignedPayload } from './payload.js';
export type { CryptoChoice } from './keys.js';
/** Every reason a signature is refused. */
export type RefusalReason = 
/** The payload is over `MAX_PAYLOAD_BYTES`. */
'payload_too_large'
/** Not a flat JSON object with v1.1's six members of their types (`scheme` must be https). */
 | 'malformed_payload'
/** A member name appears twice: parsers disagree on which one counts. */
 | 'duplicate_member'
/** `version` is not "1.1". */
 | 'unsupported_version'
/** The payload's `kid` is not a 1-128 character string. */
 | 'invalid_kid'
/** The caller named a kid and the payload carries another. */
 | 'kid_mismatch'
/** The payload's `host` is not the configured publisher host. */
 | 'host_mismatch'
/** `ts` is older than `maxAgeSeconds`. */
 | 'expired'
/** `ts` is later than now (plus `clockToleranceSeconds`). */
 | 'ts_in_future'
/** Not 64 bytes in the accepted encoding (`signatureEncoding`). */
 | 'malformed_signature'
/** No key with this kid is published (after the refetch the cooldown allows). */
 | 'unknown_kid'
/**
 * The key is in the publisher's `tainted_kids`, and either the caller refuses tainted keys
 * (`allowTainted: false`) or no cutoff applies to it and the caller did not allow them.
 */
 | 'tainted_key'
/** The key is tainted and the payload's `ts` is not before its published taint cutoff. */
 | 'signed_after_taint_cutoff'
/** The signature does not verify with the published key. */
 | 'invalid_signature'
/** No key document could be fetched, or the last good one is past its stale bound. */
 | 'keys_unavailable'
/** The key log does not vouch for this kid with this public key (docs/key-log.md). */
 | 'unendorsed_key'
/** The key log could not be fetched or does not verify (from the pinned or first-seen root). */
 | 'key_log_unavailable';
/** `published`: listed and not tainted; `tainted`: listed in `tainted_kids`. */
export type KeyState = 'published' | 'tainted';
export type VerifyResult = {
    verified: true;
    kid: string;
    keyState: KeyState;
    payload: SignedPayload;
    /** The key came from a document past its freshness (publisher unreachable). */
    stale: boolean;
} | {
    verified: false;
    reason: RefusalReason;
    /** A sentence for logs; never key material or the signature. */
    detail: string;
    kid?: string;
    keyState?: KeyState;
};
export interface VerifierOptions {
    /**
     * `https://publisher/.well-known/trusted-server.json` (gives `tainted_kids` and
     * `taint_cutoffs`). One of the two.
     */
    discoveryUrl?: string;
    /** `https://publisher/.well-known/jwks.json`: keys only, so no key is ever seen as tainted. */
    jwksUrl?: string;
    /** The publisher's host as it signs it (the payload's `host`), compared ASCII case-insensitively. */
    host: string;
    /** How old a signature's `ts` may be. Default 300. */
    maxAgeSeconds?: number;
    /** How far in the future `ts` may be, for clocks that disagree. Default 0: the future is refused. */
    clockToleranceSeconds?: number;
    /** Refetch for an unknown kid at most once per this many seconds. Default 30. */
    cooldownSeconds?: number;
    /** Reuse the key document this long when it has no Cache-Control max-age. Default 60. */
    defaultCacheSeconds?: number;
    /** Never treat the key document as fresh for longer than this. Default 3600. */
    maxCacheSeconds?: number;
    /** Serve the last good keys this long past freshness when the publisher fails, unless its
     * Cache-Control says `stale-if-error`. Default 300. */
    staleIfErrorSeconds?: number;
    /** Never serve keys more than this long past freshness, whatever the headers. Default 86400. */
    maxStaleSeconds?: number;
    /**
     * Tainted keys. Unset (the default): a tainted key with a published cutoff verifies the payloads
     * dated before it (while `enforceTaintCutoff` is on); one without a cutoff is refused. `false`:
     * every tainted key is refused. `true`: tainted keys verify, still only before their cutoff
     * while `enforceTaintCutoff` is on. Each call can also say so.
     */
    allowTainted?: boolean;
    /**
     * Apply the discovery document's `taint_cutoffs`: a tainted key's signature verifies only when
     * the payload's `ts` is before its cutoff (`signed_after_taint_cutoff` otherwise). Default true.
     */
    enforceTaintCutoff?: boolean;
    /**
     * `base64url` (default): only canonical unpadded base64url, as Trusted Server signs.
     * `base64url-or-base64`: also canonical padded standard base64, as the publisher's own
     * `/verify-signature` accepts for compatibility.
     */
    signatureEncoding?: 'base64url' | 'base64url-or-base64';
    /** Which Ed25519 implementation checks: `auto` (default) uses WebCrypto where it has Ed25519. */
    crypto?: CryptoChoice;
    /** How long a key document fetch may take, in ms; 0 for no bound of ours. Default 5000. */
    fetchTimeoutMs?: number;
    /**
     * Defaults to the global fetch. On Fastly Compute pass one that names your backend:
     * `(url, init) => fetch(url, { ...init, backend: 'publisher' })`.
     */
    fetch?: (url: string, init: RequestInit) => Promise<Response>;
    /** Defaults to Date.now. */
    now?: () => number;
    /**
     * The publisher's endorsed key log: on by default, every key must have a valid endorsement
     * chain from the root. `rootFingerprint` pins the root (base64url SHA-256 of its raw public key,
     * as the publisher's `tsctl status` and discovery document show it); without a pin the first
     * log this verifier sees fixes the root (trust on first use). `url` defaults to the log next to
     * the key document. `false` turns the check off (a publisher running Trusted Server alone).
     */
    keyLog?: false | {
        rootFingerprint?: string;
        url?: string;
    };
}
export interface VerifyInput {
    /** The exact payload text that was signed. */
    payload: string;
    signature: string;
    /** When the kid also came separately (a header, a field): it must match the payload's. */
    kid?: string;
    /** Overrides `allowTainted` for this call. */
    allowTainted?: boolean;
}
export interface Verifier {
    verify(input: VerifyInput): Promise<VerifyResult>;
    /** Resolves when no key document fetch is under way (e.g. a stale-while-revalidate one). */
    idle(): Promise<void>;
}
/** Largest payload text verified; a v1.1 payload is a few hundred bytes. */
export declare const MAX_PAYLOAD_BYTES = 4096;
/** Largest key document read. */
export declare const MAX_DOCUMENT_BYTES: number;
/** A verifier for one publisher. Keep one per process: it holds the key cache. */
export declare function createVerifier(options: VerifierOptions): Verifier;
