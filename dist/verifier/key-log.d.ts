export declare const KEY_LOG_FORMAT = "trusted-server-keys/key-log";
export declare const KEY_LOG_VERSION = 1;
/** Largest key log read (the publisher keeps it under 8,000 characters). */
export declare const MAX_KEY_LOG_BYTES: number;
/** What the chain check says about one key. */
export type ChainCheck = {
    ok: true;
} | {
    ok: false;
    reason: 'unendorsed_key' | 'key_log_unavailable';
    detail: string;
};
export interface KeyLogOptions {
    url: string;
    /** base64url SHA-256 of the root's raw public key, as the publisher's status shows it. */
    pin?: string;
    fetch: (url: string, init: RequestInit) => Promise<Response>;
    now: () => number;
    cooldownMs: number;
    timeoutMs: number;
}
/** A verifier's view of one publisher's key log. */
export declare class KeyLogChain {
    private readonly options;
    private chain;
    private inflight;
    private lastFetchAt;
    private lastProblem;
    constructor(options: KeyLogOptions);
    /** The root this instance trusts (pinned, or fixed on first use), or null before the first log. */
    get rootFingerprint(): string | null;
    /** Whether the log vouches for `kid` with the raw public key `raw`. */
    check(kid: string, raw: Uint8Array): Promise<ChainCheck>;
    private refresh;
    private fetchText;
    /**
     * Checks a log against the pin (or the root fixed on first use) and the chain checked before,
     * and returns the chain it proves.
     */
    private verify;
}
/**
 * The key log's URL next to a key document's: `/.well-known/trusted-server-key-log.json` for
 * Trusted Server's paths, `/.well-known/deployments/NAME/key-log.json` for a deployment's.
 */
export declare function keyLogUrlFor(documentUrl: string): string;
