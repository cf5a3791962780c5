// trusted-server-keys/verifier: a partner's verifier for signatures made with a publisher's
// Trusted Server keys. Web APIs only (Node 20+, Deno, Bun, Cloudflare Workers, Fastly Compute);
// it imports nothing from the service.
//
// A Trusted Server signature is not a JWS: it is a raw Ed25519 signature, base64url, over the
// exact v1.1 payload text `{"version":"1.1","kid","host","scheme":"https","id","ts"}`, and the
// kid is inside the payload. So the payload is checked first (cheap, no network), then the key
// is looked up in the publisher's key document (cached per its headers), then the signature.
import { fromBase64, fromBase64Url } from './base64.js';
import { KeyLogChain, keyLogUrlFor } from './key-log.js';
import { KeySource } from './key-source.js';
import type { CryptoChoice } from './keys.js';
import { verifyEd25519 } from './keys.js';
import { readPayload, type SignedPayload } from './payload.js';
import { afterCutoff } from './taint-cutoff.js';

export type { SignedPayload } from './payload.js';
export type { CryptoChoice } from './keys.js';

/** Every reason a signature is refused. */
export type RefusalReason =
  /** The payload is over `MAX_PAYLOAD_BYTES`. */
  | 'payload_too_large'
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

export type VerifyResult =
  | {
      verified: true;
      kid: string;
      keyState: KeyState;
      payload: SignedPayload;
      /** The key came from a document past its freshness (publisher unreachable). */
      stale: boolean;
    }
  | {
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
  keyLog?: false | { rootFingerprint?: string; url?: string };
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
export const MAX_PAYLOAD_BYTES = 4096;
/** Largest key document read. */
export const MAX_DOCUMENT_BYTES = 256 * 1024;

const positive = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a number >= 0`);
  return v;
};

/** Host names compare case-insensitively in ASCII only: Unicode folding would let "\u212A" be "k". */
const asciiLower = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** A verifier for one publisher. Keep one per process: it holds the key cache. */
export function createVerifier(options: VerifierOptions): Verifier {
  const url = options.discoveryUrl ?? options.jwksUrl;
  if ((options.discoveryUrl === undefined) === (options.jwksUrl === undefined) || !url)
    throw new TypeError('createVerifier needs exactly one of discoveryUrl and jwksUrl');
  try {
    new URL(url);
  } catch {
    throw new TypeError('createVerifier: the key document URL is not an absolute URL');
  }
  if (typeof options.host !== 'string' || options.host.length === 0)
    throw new TypeError('createVerifier needs the publisher host');
  const host = asciiLower(options.host);
  const now = options.now ?? (() => Date.now());
  const maxAgeMs = positive('maxAgeSeconds', options.maxAgeSeconds, 300) * 1000;
  const toleranceMs = positive('clockToleranceSeconds', options.clockToleranceSeconds, 0) * 1000;
  if (options.enforceTaintCutoff !== undefined && typeof options.enforceTaintCutoff !== 'boolean')
    throw new TypeError('enforceTaintCutoff must be true or false');
  const enforceTaintCutoff = options.enforceTaintCutoff ?? true;
  const lenient = options.signatureEncoding === 'base64url-or-base64';
  if (
    options.signatureEncoding !== undefined &&
    !lenient &&
    options.signatureEncoding !== 'base64url'
  )
    throw new TypeError('signatureEncoding must be "base64url" or "base64url-or-base64"');
  const fetchFn = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const source = new KeySource({
    url,
    fetch: fetchFn,
    now,
    crypto: options.crypto ?? 'auto',
    cooldownMs: positive('cooldownSeconds', options.cooldownSeconds, 30) * 1000,
    defaultMaxAgeMs: positive('defaultCacheSeconds', options.defaultCacheSeconds, 60) * 1000,
    maxCacheMs: positive('maxCacheSeconds', options.maxCacheSeconds, 3600) * 1000,
    staleIfErrorMs: positive('staleIfErrorSeconds', options.staleIfErrorSeconds, 300) * 1000,
    maxStaleMs: positive('maxStaleSeconds', options.maxStaleSeconds, 86400) * 1000,
    timeoutMs: positive('fetchTimeoutMs', options.fetchTimeoutMs, 5000),
    maxDocumentBytes: MAX_DOCUMENT_BYTES,
  });
  const keyLog = options.keyLog ?? {};
  if (keyLog !== false && (typeof keyLog !== 'object' || keyLog === null))
    throw new TypeError('keyLog must be false or an object');
  if (
    keyLog &&
    keyLog.rootFingerprint !== undefined &&
    !/^[A-Za-z0-9_-]{43}$/.test(keyLog.rootFingerprint)
  )
    throw new TypeError('keyLog.rootFingerprint must be 43 base64url characters (a SHA-256)');
  const chain =
    keyLog === false
      ? null
      : new KeyLogChain({
          url: keyLog.url ?? keyLogUrlFor(url),
          ...(keyLog.rootFingerprint !== undefined ? { pin: keyLog.rootFingerprint } : {}),
          fetch: fetchFn,
          now,
          cooldownMs: positive('cooldownSeconds', options.cooldownSeconds, 30) * 1000,
          timeoutMs: positive('fetchTimeoutMs', options.fetchTimeoutMs, 5000),
        });
  const encoder = new TextEncoder();

  async function verify(input: VerifyInput): Promise<VerifyResult> {
    const refuse = (
      reason: RefusalReason,
      detail: string,
      extra: { kid?: string; keyState?: KeyState } = {},
    ): VerifyResult => ({ verified: false, reason, detail, ...extra });
    if (typeof input?.payload !== 'string' || typeof input.signature !== 'string')
      return refuse('malformed_payload', 'payload and signature must be strings');
    const message = encoder.encode(input.payload);
    if (message.length > MAX_PAYLOAD_BYTES)
      return refuse('payload_too_large', `payload is over ${MAX_PAYLOAD_BYTES} bytes`);
    const read = readPayload(input.payload);
    if (!read.ok) return refuse(read.reason, read.detail);
    const payload = read.payload;
    const kid = payload.kid;
    if (input.kid !== undefined && input.kid !== kid)
      return refuse('kid_mismatch', 'the kid given does not match the payload kid', { kid });
    if (asciiLower(payload.host) !== host)
      return refuse('host_mismatch', 'payload host is not the publisher host', { kid });
    const t = now();
    if (payload.ts > t + toleranceMs)
      return refuse('ts_in_future', 'payload ts is in the future', { kid });
    if (t - payload.ts > maxAgeMs)
      return refuse('expired', `payload ts is more than ${maxAgeMs / 1000} s old`, { kid });
    const signature =
      fromBase64Url(input.signature) ?? (lenient ? fromBase64(input.signature) : null);
    if (!signature || signature.length !== 64)
      return refuse(
        'malformed_signature',
        lenient
          ? 'signature is not 64 bytes of canonical base64url or padded base64'
          : 'signature is not 64 bytes of canonical unpadded base64url',
        { kid },
      );
    // Only now, with everything cheap checked, may the request cost a key document fetch.
    const found = await source.lookup(kid);
    if (!found.ok) return refuse(found.reason, found.detail, { kid });
    const keyState: KeyState = found.tainted ? 'tainted' : 'published';
    if (found.tainted) {
      const allow = input.allowTainted ?? options.allowTainted;
      const cutoff = enforceTaintCutoff ? found.taintCutoffMs : undefined;
      if (allow === false || (allow === undefined && cutoff === undefined))
        return refuse('tainted_key', `key "${kid}" is tainted (listed in tainted_kids)`, {
          kid,
          keyState,
        });
      const late = cutoff === undefined ? null : afterCutoff(kid, payload.ts, cutoff);
      if (late !== null) return refuse('signed_after_taint_cutoff', late, { kid, keyState });
    }
    if (chain) {
      const endorsed = await chain.check(kid, found.key.raw);
      if (!endorsed.ok) return refuse(endorsed.reason, endorsed.detail, { kid, keyState });
    }
    if (!(await verifyEd25519(found.key, signature, message)))
      return refuse('invalid_signature', 'signature does not verify with the published key', {
        kid,
        keyState,
      });
    return { verified: true, kid, keyState, payload, stale: found.stale };
  }

  return { verify, idle: () => source.idle() };
}
