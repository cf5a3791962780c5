// The endorsed key log (docs/key-log.md): every key the service brings in is endorsed by a
// signature of a key it already trusts, chained by hash to the one before, from a self-endorsed
// root partners can pin. It lives in the `key-log` config item, written by the same bulk update
// as the key it endorses, and is published as stored. Its size is bounded: the oldest entries are
// folded into a signed checkpoint. Trusted Server never writes it; a store without it has no log
// and every key in it is unendorsed (reported, never an error).
import { toBase64Url, fromBase64Url, utf8 } from '../crypto/base64.js';
import { publicKeyOf, sign, verify } from '../crypto/ed25519.js';
import { TskError } from '../errors.js';
import { MAX_KEYRING_CHARS } from './document.js';

/** The config item holding the log (reserved: no kid may take it). */
export const KEY_LOG_ITEM = 'key-log';
/** The document's `format`; `version` changes with any incompatible change of the bytes below. */
export const KEY_LOG_FORMAT = 'trusted-server-keys/key-log';
export const KEY_LOG_VERSION = 1;
/** Entries kept after the root before the oldest are folded into the checkpoint. */
export const MAX_LOG_ENTRIES = 12;
/** Folding also starts when the document would pass this size (the item limit leaves room). */
export const LOG_SOFT_LIMIT_CHARS = 7000;

/** One endorsement: `endorser` vouches for `kid` having public key `x`. */
export interface LogEntry {
  seq: number;
  kid: string;
  /** base64url of the raw 32-byte Ed25519 public key, as the JWK's `x`. */
  x: string;
  at: string;
  endorser: string;
  /** The hash of the entry before (empty for the root). */
  prev: string;
  sig: string;
}

/** A key a checkpoint vouches for. */
export interface VouchedKey {
  kid: string;
  x: string;
}

/** The oldest entries after the root, folded: signed by the key that made it. */
export interface Checkpoint {
  /** The seq of the last folded entry. */
  seq: number;
  /** The hash of the last folded entry: the next entry's `prev`. */
  last: string;
  /** The keys it vouches for: those the folded entries (and the previous checkpoint) endorsed that still matter. */
  keys: VouchedKey[];
  signer: string;
  at: string;
  /** The hash of the checkpoint it replaced (empty for the first). */
  prev: string;
  sig: string;
}

/** The `key-log` item and the published document. */
export interface KeyLog {
  format: typeof KEY_LOG_FORMAT;
  version: typeof KEY_LOG_VERSION;
  deployment: string;
  /** base64url SHA-256 of the root's raw public key: what partners pin. */
  root_fingerprint: string;
  root: LogEntry;
  checkpoint: Checkpoint | null;
  entries: LogEntry[];
}

/** The bytes an entry's signature covers: a tag line, then the fixed-order JSON without `sig`. */
export function entrySigningBytes(e: LogEntry): Uint8Array {
  return utf8(`${KEY_LOG_FORMAT}/v1 entry\n${entryJson(e, false)}`);
}

/** The bytes a checkpoint's signature covers. */
export function checkpointSigningBytes(c: Checkpoint): Uint8Array {
  return utf8(`${KEY_LOG_FORMAT}/v1 checkpoint\n${checkpointJson(c, false)}`);
}

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

async function sha256B64u(text: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
}

/** An entry's hash: base64url SHA-256 of its fixed-order JSON, `sig` included. */
export function entryHash(e: LogEntry): Promise<string> {
  return sha256B64u(entryJson(e, true));
}

/** A checkpoint's hash, likewise. */
export function checkpointHash(c: Checkpoint): Promise<string> {
  return sha256B64u(checkpointJson(c, true));
}

/** A key's fingerprint: base64url SHA-256 of its raw 32-byte public key. */
export async function keyFingerprint(x: string): Promise<string> {
  const raw = fromBase64Url(x);
  if (!raw || raw.length !== 32)
    throw new TskError('keyring_corrupt', 'a key log key is not 32 bytes');
  return toBase64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', raw as Uint8Array<ArrayBuffer>)),
  );
}

/** The log as stored: compact JSON. */
export function serializeKeyLog(log: KeyLog): string {
  return JSON.stringify(log);
}

function isEntry(v: unknown): v is LogEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    Number.isInteger(e['seq']) &&
    ['kid', 'x', 'at', 'endorser', 'prev', 'sig'].every((k) => typeof e[k] === 'string')
  );
}

function isCheckpoint(v: unknown): v is Checkpoint {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    Number.isInteger(c['seq']) &&
    ['last', 'signer', 'at', 'prev', 'sig'].every((k) => typeof c[k] === 'string') &&
    Array.isArray(c['keys']) &&
    c['keys'].every(
      (k: unknown) =>
        typeof k === 'object' &&
        k !== null &&
        typeof (k as VouchedKey).kid === 'string' &&
        typeof (k as VouchedKey).x === 'string',
    )
  );
}

/**
 * Parses the item: null when absent; `keyring_corrupt`-free: an unreadable item is returned as
 * `{ invalid }` so callers report it without failing.
 */
export function parseKeyLog(text: string | null | undefined): KeyLog | null | { invalid: string } {
  if (text === null || text === undefined) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { invalid: 'the key-log item is not JSON' };
  }
  const o = json as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) return { invalid: 'the key-log item is not an object' };
  if (o['format'] !== KEY_LOG_FORMAT || o['version'] !== KEY_LOG_VERSION) {
    return { invalid: `the key-log item is not ${KEY_LOG_FORMAT} version ${KEY_LOG_VERSION}` };
  }
  if (
    typeof o['deployment'] !== 'string' ||
    typeof o['root_fingerprint'] !== 'string' ||
    !isEntry(o['root']) ||
    !(o['checkpoint'] === null || isCheckpoint(o['checkpoint'])) ||
    !Array.isArray(o['entries']) ||
    !o['entries'].every(isEntry)
  ) {
    return { invalid: 'the key-log item is malformed' };
  }
  return o as unknown as KeyLog;
}

/** Narrows `parseKeyLog`'s answer. */
export function isKeyLog(v: KeyLog | null | { invalid: string }): v is KeyLog {
  return v !== null && !('invalid' in v);
}

/** Every key the log vouches for, kid → x: the root, the checkpoint's keys, every entry's. */
export function endorsedKeys(log: KeyLog | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!log) return out;
  out.set(log.root.kid, log.root.x);
  for (const k of log.checkpoint?.keys ?? []) out.set(k.kid, k.x);
  for (const e of log.entries) out.set(e.kid, e.x);
  return out;
}

/** Published keys the log does not vouch for (by kid and `x`), in the order given. */
export function unendorsedKids(
  log: KeyLog | null,
  published: ReadonlyArray<{ id: string; jwk: { x: string } }>,
): string[] {
  const endorsed = endorsedKeys(log);
  return published.filter((k) => endorsed.get(k.id) !== k.jwk.x).map((k) => k.id);
}

/** A signer: a kid and its seed. */
export interface LogSigner {
  kid: string;
  seed: Uint8Array;
}

async function xOf(seed: Uint8Array): Promise<string> {
  return toBase64Url(await publicKeyOf(seed));
}

/** A new log whose root is `root`, self-endorsed. */
export async function startKeyLog(
  deployment: string,
  root: LogSigner,
  nowIso: string,
): Promise<KeyLog> {
  const x = await xOf(root.seed);
  const entry: LogEntry = {
    seq: 0,
    kid: root.kid,
    x,
    at: nowIso,
    endorser: root.kid,
    prev: '',
    sig: '',
  };
  entry.sig = toBase64Url(await sign(root.seed, entrySigningBytes(entry)));
  return {
    format: KEY_LOG_FORMAT,
    version: KEY_LOG_VERSION,
    deployment,
    root_fingerprint: await keyFingerprint(x),
    root: entry,
    checkpoint: null,
    entries: [],
  };
}

/**
 * The log with `kid` (public key `x`) endorsed by `endorser`, whose key the log must vouch for;
 * entries past the bounds are folded into a checkpoint `endorser` signs, which keeps the keys
 * in `keep` (the keyring's) and every endorser of a kept entry. `keyring_too_large` if even a
 * log with no entries would exceed the item limit.
 */
export async function appendEndorsement(
  log: KeyLog,
  target: VouchedKey,
  endorser: LogSigner,
  nowIso: string,
  keep: ReadonlySet<string>,
): Promise<KeyLog> {
  const endorserX = await xOf(endorser.seed);
  if (endorsedKeys(log).get(endorser.kid) !== endorserX) {
    throw new TskError('internal', `${endorser.kid} is not vouched for by the key log`);
  }
  const last = log.entries.at(-1);
  const prev = last
    ? await entryHash(last)
    : log.checkpoint
      ? log.checkpoint.last
      : await entryHash(log.root);
  const seq = (last?.seq ?? log.checkpoint?.seq ?? 0) + 1;
  const entry: LogEntry = { seq, ...target, at: nowIso, endorser: endorser.kid, prev, sig: '' };
  entry.sig = toBase64Url(await sign(endorser.seed, entrySigningBytes(entry)));
  let next: KeyLog = { ...log, entries: [...log.entries, entry] };
  while (
    next.entries.length > MAX_LOG_ENTRIES ||
    (serializeKeyLog(next).length > LOG_SOFT_LIMIT_CHARS && next.entries.length > 1)
  ) {
    next = await fold(next, 1, endorser, nowIso, keep);
  }
  // Built from a log that verified (the caller checks it), by keys it vouches for.
  if (CHECKED.get(serializeKeyLog(log)) === null) remember(serializeKeyLog(next), null);
  if (serializeKeyLog(next).length > MAX_KEYRING_CHARS) {
    throw new TskError(
      'keyring_too_large',
      `the key log would exceed the ${MAX_KEYRING_CHARS}-character config item limit even folded; remove key sets or use shorter kids`,
    );
  }
  return next;
}

/** Folds the oldest `n` entries into a new checkpoint signed by `signer`. */
async function fold(
  log: KeyLog,
  n: number,
  signer: LogSigner,
  nowIso: string,
  keep: ReadonlySet<string>,
): Promise<KeyLog> {
  const folded = log.entries.slice(0, n);
  const kept = log.entries.slice(n);
  const lastFolded = folded.at(-1);
  if (!lastFolded) return log;
  const needed = new Set([...keep, ...kept.map((e) => e.endorser), signer.kid]);
  const keys = new Map<string, string>();
  for (const k of log.checkpoint?.keys ?? []) keys.set(k.kid, k.x);
  for (const e of folded) keys.set(e.kid, e.x);
  // The signer vouches for itself too, so the checkpoint verifies on its own terms.
  keys.set(signer.kid, await xOf(signer.seed));
  const vouched = [...keys]
    .filter(([kid]) => needed.has(kid) && kid !== log.root.kid)
    .map(([kid, x]) => ({ kid, x }));
  const checkpoint: Checkpoint = {
    seq: lastFolded.seq,
    last: await entryHash(lastFolded),
    keys: vouched,
    signer: signer.kid,
    at: nowIso,
    prev: log.checkpoint ? await checkpointHash(log.checkpoint) : '',
    sig: '',
  };
  checkpoint.sig = toBase64Url(await sign(signer.seed, checkpointSigningBytes(checkpoint)));
  return { ...log, checkpoint, entries: kept };
}

/**
 * Checks a log on its own terms: the root's self-signature and fingerprint, the checkpoint's
 * signature by a key it (or the root) vouches for, every entry's link and signature by a key
 * vouched for before it. Returns the problem, or null. (A partner's verifier also checks the
 * root against a pin and a checkpoint against what it saw before: see `src/verifier/key-log.ts`.)
 */
export async function keyLogProblem(log: KeyLog): Promise<string | null> {
  const text = serializeKeyLog(log);
  const known = CHECKED.get(text);
  if (known !== undefined) return known;
  const problem = await checkLog(log);
  remember(text, problem);
  return problem;
}

/**
 * Logs already checked, by their text: a log never changes under a text, and status, doctor and
 * every commit check the same few (a Node process, a long-lived host). Bounded.
 */
const CHECKED = new Map<string, string | null>();
const MAX_CHECKED = 16;

/** How many checked logs the cache holds (the Fastly build's warm-up must leave none). */
export function checkedKeyLogCount(): number {
  return CHECKED.size;
}

function remember(text: string, problem: string | null): void {
  CHECKED.delete(text);
  CHECKED.set(text, problem);
  if (CHECKED.size > MAX_CHECKED) CHECKED.delete(CHECKED.keys().next().value as string);
}

async function checkLog(log: KeyLog): Promise<string | null> {
  const trusted = new Map<string, string>([[log.root.kid, log.root.x]]);
  if (log.root.seq !== 0 || log.root.prev !== '' || log.root.endorser !== log.root.kid) {
    return 'the root entry is not self-endorsed';
  }
  if (!(await entryValid(log.root, log.root.x))) return 'the root entry has a bad signature';
  if ((await keyFingerprint(log.root.x)) !== log.root_fingerprint) {
    return 'root_fingerprint is not the root key';
  }
  let prev = await entryHash(log.root);
  let seq = 0;
  if (log.checkpoint) {
    const c = log.checkpoint;
    for (const k of c.keys) trusted.set(k.kid, k.x);
    const signerX = trusted.get(c.signer);
    const raw = signerX ? fromBase64Url(c.sig) : null;
    const key = signerX ? fromBase64Url(signerX) : null;
    if (!raw || !key || !(await verify(key, raw, checkpointSigningBytes(c)))) {
      return 'the checkpoint is not signed by a key it vouches for';
    }
    prev = c.last;
    seq = c.seq;
  }
  for (const e of log.entries) {
    if (e.prev !== prev || e.seq !== seq + 1)
      return `entry ${e.seq} does not follow the one before`;
    const endorserX = trusted.get(e.endorser);
    if (!endorserX || !(await entryValid(e, endorserX))) {
      return `entry ${e.seq} (${e.kid}) is not signed by a key the log vouches for`;
    }
    trusted.set(e.kid, e.x);
    prev = await entryHash(e);
    seq = e.seq;
  }
  return null;
}

async function entryValid(e: LogEntry, signerX: string): Promise<boolean> {
  const key = fromBase64Url(signerX);
  const sig = fromBase64Url(e.sig);
  if (!key || !sig) return false;
  return verify(key, sig, entrySigningBytes(e));
}
