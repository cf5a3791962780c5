// The publisher's endorsed key log (docs/key-log.md), checked as a partner must: from a pinned
// root fingerprint, or without a pin from the first log this verifier sees (trust on first use),
// every entry must link to the one before by hash and be signed by a key already trusted. A key
// the JWKS publishes is used only when the log vouches for that kid with that very public key,
// so a key written straight into the publisher's stores (a stolen API token) is refused. The
// checked chain is cached: a verification after the first costs a Map lookup; the log is fetched
// again only when a kid it does not vouch for shows up (at most once per cooldown).
//
// Deliberately a copy of the service's format code, not an import: the verifier imports nothing
// of the service (docs/architecture.md, "Layers and what each may import").
import * as ed from '@noble/ed25519';
import { fromBase64Url } from './base64.js';

export const KEY_LOG_FORMAT = 'trusted-server-keys/key-log';
export const KEY_LOG_VERSION = 1;
/** Largest key log read (the publisher keeps it under 8,000 characters). */
export const MAX_KEY_LOG_BYTES = 64 * 1024;

interface LogEntry {
  seq: number;
  kid: string;
  x: string;
  at: string;
  endorser: string;
  prev: string;
  sig: string;
}

interface Checkpoint {
  seq: number;
  last: string;
  keys: Array<{ kid: string; x: string }>;
  signer: string;
  at: string;
  prev: string;
  sig: string;
}

interface KeyLogDocument {
  format: string;
  version: number;
  root_fingerprint: string;
  root: LogEntry;
  checkpoint: Checkpoint | null;
  entries: LogEntry[];
}

/** What the chain check says about one key. */
export type ChainCheck =
  { ok: true } | { ok: false; reason: 'unendorsed_key' | 'key_log_unavailable'; detail: string };

export interface KeyLogOptions {
  url: string;
  /** base64url SHA-256 of the root's raw public key, as the publisher's status shows it. */
  pin?: string;
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  now: () => number;
  cooldownMs: number;
  timeoutMs: number;
}

const encoder = new TextEncoder();

function entryJson(e: LogEntry, withSig: boolean): string {
  const o = { seq: e.seq, kid: e.kid, x: e.x, at: e.at, endorser: e.endorser, prev: e.prev };
  return JSON.stringify(withSig ? { ...o, sig: e.sig } : o);
}

function checkpointJson(c: Checkpoint, withSig: boolean): string {
  const o = {
    seq: c.seq,
    last: c.last,
    keys: c.keys.map((k) => ({ kid: k.kid, x: k.x })),
    signer: c.signer,
    at: c.at,
    prev: c.prev,
  };
  return JSON.stringify(withSig ? { ...o, sig: c.sig } : o);
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return toBase64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)),
  );
}

async function signedBy(x: string, sig: string, message: string): Promise<boolean> {
  const key = fromBase64Url(x);
  const signature = fromBase64Url(sig);
  if (!key || key.length !== 32 || !signature || signature.length !== 64) return false;
  try {
    return await ed.verifyAsync(signature, encoder.encode(message), key, { zip215: false });
  } catch {
    return false;
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string';

function isEntry(v: unknown): v is LogEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return Number.isInteger(e.seq) && [e.kid, e.x, e.at, e.endorser, e.prev, e.sig].every(isStr);
}

function isCheckpoint(v: unknown): v is Checkpoint {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    Number.isInteger(c.seq) &&
    [c.last, c.signer, c.at, c.prev, c.sig].every(isStr) &&
    Array.isArray(c.keys) &&
    c.keys.every((k: unknown) => {
      const o = k as Record<string, unknown> | null;
      return typeof o === 'object' && o !== null && isStr(o.kid) && isStr(o.x);
    })
  );
}

class LogFailure extends Error {}

/** The chain as this verifier has checked it. */
interface Chain {
  rootFingerprint: string;
  /** kid → x of every key the checked logs vouched for. */
  trusted: Map<string, string>;
  /** The text last checked, so an unchanged log costs no signature check. */
  text: string;
}

/** A verifier's view of one publisher's key log. */
export class KeyLogChain {
  private chain: Chain | null = null;
  private inflight: Promise<void> | null = null;
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private lastProblem = 'the key log was never fetched';

  constructor(private readonly options: KeyLogOptions) {}

  /** The root this instance trusts (pinned, or fixed on first use), or null before the first log. */
  get rootFingerprint(): string | null {
    return this.chain?.rootFingerprint ?? null;
  }

  /** Whether the log vouches for `kid` with the raw public key `raw`. */
  async check(kid: string, raw: Uint8Array): Promise<ChainCheck> {
    const x = toBase64Url(raw);
    if (this.chain?.trusted.get(kid) === x) return { ok: true };
    // Unknown to the checked chain: the publisher may have endorsed it since. Fetch again, at
    // most once per cooldown (joining a fetch under way).
    if (this.inflight) await this.inflight;
    else if (this.options.now() - this.lastFetchAt >= this.options.cooldownMs) {
      this.lastFetchAt = this.options.now();
      this.inflight = this.refresh().finally(() => {
        this.inflight = null;
      });
      await this.inflight;
    }
    if (this.chain === null) {
      return { ok: false, reason: 'key_log_unavailable', detail: this.lastProblem };
    }
    const known = this.chain.trusted.get(kid);
    if (known === x) return { ok: true };
    return {
      ok: false,
      reason: 'unendorsed_key',
      detail:
        known === undefined
          ? `key "${kid}" has no endorsement in the publisher's key log (${this.lastProblem})`
          : `key "${kid}" is published with another public key than the key log endorsed`,
    };
  }

  private async refresh(): Promise<void> {
    try {
      const text = await this.fetchText();
      if (this.chain?.text === text) {
        this.lastProblem = 'the log is unchanged';
        return;
      }
      this.chain = await this.verify(text);
      this.lastProblem = 'checked';
    } catch (err) {
      this.lastProblem =
        err instanceof LogFailure ? err.message : 'the key log could not be fetched';
    }
  }

  private async fetchText(): Promise<string> {
    const { timeoutMs } = this.options;
    const abort = typeof AbortController === 'function' ? new AbortController() : null;
    const fetching = this.options.fetch(this.options.url, {
      headers: { accept: 'application/json' },
      ...(abort ? { signal: abort.signal } : {}),
    });
    fetching.catch(() => undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout =
      timeoutMs > 0
        ? new Promise<never>((_r, reject) => {
            timer = setTimeout(() => {
              reject(new LogFailure(`the key log did not answer within ${timeoutMs} ms`));
              abort?.abort();
            }, timeoutMs);
          })
        : null;
    let response: Response;
    try {
      response = await (timeout ? Promise.race([fetching, timeout]) : fetching);
    } catch (err) {
      if (err instanceof LogFailure) throw err;
      throw new LogFailure('the key log could not be fetched (network error)');
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw new LogFailure(
        'the publisher publishes no key log (404); for a publisher running Trusted Server alone, create the verifier with keyLog: false',
      );
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new LogFailure(`the key log answered HTTP ${response.status}`);
    }
    const text = await response.text();
    if (encoder.encode(text).length > MAX_KEY_LOG_BYTES) {
      throw new LogFailure(`the key log is larger than ${MAX_KEY_LOG_BYTES} bytes`);
    }
    return text;
  }

  /**
   * Checks a log against the pin (or the root fixed on first use) and the chain checked before,
   * and returns the chain it proves.
   */
  private async verify(text: string): Promise<Chain> {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new LogFailure('the key log is not JSON');
    }
    const log = doc as KeyLogDocument;
    if (typeof doc !== 'object' || doc === null)
      throw new LogFailure('the key log is not an object');
    if (log.format !== KEY_LOG_FORMAT || log.version !== KEY_LOG_VERSION) {
      throw new LogFailure(`the key log is not ${KEY_LOG_FORMAT} version ${KEY_LOG_VERSION}`);
    }
    if (
      !isStr(log.root_fingerprint) ||
      !isEntry(log.root) ||
      !(log.checkpoint === null || isCheckpoint(log.checkpoint)) ||
      !Array.isArray(log.entries) ||
      !log.entries.every(isEntry)
    ) {
      throw new LogFailure('the key log is malformed');
    }
    // The root: self-endorsed, its fingerprint the pin (or the root this instance saw first).
    const { root } = log;
    const rawRoot = fromBase64Url(root.x);
    if (!rawRoot || rawRoot.length !== 32) throw new LogFailure('the root key is not 32 bytes');
    const fingerprint = await sha256(rawRoot);
    if (fingerprint !== log.root_fingerprint) {
      throw new LogFailure('root_fingerprint is not the fingerprint of the root key');
    }
    const expected = this.options.pin ?? this.chain?.rootFingerprint;
    if (expected !== undefined && fingerprint !== expected) {
      throw new LogFailure(
        `the key log's root ${fingerprint} is not the ${this.options.pin ? 'pinned' : 'first-seen'} root ${expected}`,
      );
    }
    if (root.seq !== 0 || root.prev !== '' || root.endorser !== root.kid) {
      throw new LogFailure('the root entry is not self-endorsed');
    }
    if (
      !(await signedBy(root.x, root.sig, `${KEY_LOG_FORMAT}/v1 entry\n${entryJson(root, false)}`))
    ) {
      throw new LogFailure('the root entry has a bad signature');
    }
    const before = this.chain?.trusted ?? new Map<string, string>();
    const trusted = new Map<string, string>([[root.kid, root.x]]);
    let prev = await sha256(encoder.encode(entryJson(root, true)));
    let seq = 0;
    const c = log.checkpoint;
    if (c) {
      // A checkpoint is checked with the signer's key as this instance knows it; a signer it
      // never saw endorsed (it meets the log first, or missed the folded entries) is taken at the
      // checkpoint's word, on first use, while every key it knew must keep its public key (below).
      const signerX = before.get(c.signer) ?? c.keys.find((k) => k.kid === c.signer)?.x;
      if (signerX === undefined) {
        throw new LogFailure(
          `the checkpoint's signer ${c.signer} is not among the keys it vouches for`,
        );
      }
      const message = `${KEY_LOG_FORMAT}/v1 checkpoint\n${checkpointJson(c, false)}`;
      if (!(await signedBy(signerX, c.sig, message))) {
        throw new LogFailure('the checkpoint has a bad signature');
      }
      for (const k of c.keys) trusted.set(k.kid, k.x);
      prev = c.last;
      seq = c.seq;
    }
    for (const e of log.entries) {
      if (e.prev !== prev || e.seq !== seq + 1) {
        throw new LogFailure(`entry ${e.seq} does not follow the one before`);
      }
      const endorserX = trusted.get(e.endorser);
      const message = `${KEY_LOG_FORMAT}/v1 entry\n${entryJson(e, false)}`;
      if (endorserX === undefined || !(await signedBy(endorserX, e.sig, message))) {
        throw new LogFailure(
          `entry ${e.seq} (${e.kid}) is not signed by a key the log vouches for`,
        );
      }
      trusted.set(e.kid, e.x);
      prev = await sha256(encoder.encode(entryJson(e, true)));
      seq = e.seq;
    }
    // A key this instance trusted keeps its public key: a log that says otherwise is refused.
    for (const [kid, x] of trusted) {
      const old = before.get(kid);
      if (old !== undefined && old !== x) {
        throw new LogFailure(`the key log now gives ${kid} another public key than before`);
      }
    }
    for (const [kid, x] of before) if (!trusted.has(kid)) trusted.set(kid, x);
    return { rootFingerprint: fingerprint, trusted, text };
  }
}

/**
 * The key log's URL next to a key document's: `/.well-known/trusted-server-key-log.json` for
 * Trusted Server's paths, `/.well-known/deployments/NAME/key-log.json` for a deployment's.
 */
export function keyLogUrlFor(documentUrl: string): string {
  const url = new URL(documentUrl);
  const deployment = /^(\/\.well-known\/deployments\/[^/]+\/)(?:trusted-server|jwks)\.json$/.exec(
    url.pathname,
  );
  if (deployment) url.pathname = `${deployment[1]}key-log.json`;
  else url.pathname = url.pathname.replace(/[^/]*$/, 'trusted-server-key-log.json');
  url.search = '';
  return url.toString();
}
