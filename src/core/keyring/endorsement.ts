// The engine's side of the key log (docs/key-log.md): which key a commit endorses, which key
// signs the endorsement, and the `key-log` value the commit's bulk update writes. Kept out of the
// engine so it only calls `planEndorsement`.
import { toBase64Url } from '../crypto/base64.js';
import { publicKeyOf } from '../crypto/ed25519.js';
import { TskError } from '../errors.js';
import { decodeSeed } from '../keys/seed-encoding.js';
import type { EdgeSecrets } from '../ports.js';
import { PUBLISHED_STATES, type Keyring, type Keyset } from './document.js';
import {
  appendEndorsement,
  endorsedKeys,
  isKeyLog,
  keyLogProblem,
  parseKeyLog,
  serializeKeyLog,
  startKeyLog,
  type KeyLog,
  type LogSigner,
} from './key-log.js';

/**
 * Private keys read at most to find an endorser: with the admin token, the API token and the
 * fold's two probes, Fastly's 5 secret reads a request leave one.
 */
const MAX_ENDORSER_READS = 1;

/** What a commit does to the log. */
export interface EndorsementPlan {
  /** The `key-log` value to write; absent: the log is left as it is. */
  log?: string;
  /** Why the key was left unendorsed (prepare/rotate go ahead; the answer warns). */
  warning?: string;
}

/** Facts the plan needs. */
export interface EndorsementContext {
  deployment: string;
  /** The keyring read under the lease, and the one the commit writes (mutated: `endorsed_at`). */
  before: Keyring;
  after: Keyring;
  /** The stored `key-log` item, or null. */
  stored: string | null;
  /** The key set to endorse: a prepared/rotated one or the one `adopt <kid>` names. */
  target: string;
  /** The seed of a key set this commit creates (its private key is not in the store yet). */
  createdSeed?: Uint8Array;
  privateKeys: EdgeSecrets | undefined;
  nowIso: string;
  /** `adopt <kid>` refuses (409) where prepare/rotate only warn. */
  strict: boolean;
}

/**
 * Endorses `ctx.target` in the log and marks it (and a new root) `endorsed_at` in `ctx.after`.
 * A deployment with no log starts one: its root is the ACTIVE key (self-endorsed), or the target
 * itself when there is no ACTIVE key to read. Otherwise the endorser is the ACTIVE key when the
 * log vouches for it, else the newest key set the log vouches for whose private key the edge
 * reads. A log that does not verify is never extended.
 */
export async function planEndorsement(ctx: EndorsementContext): Promise<EndorsementPlan> {
  const target = ctx.after.keysets.find((k) => k.id === ctx.target);
  if (!target) return {};
  const refuse = (
    code: 'endorsement_unavailable' | 'key_log_invalid',
    why: string,
  ): EndorsementPlan => {
    if (ctx.strict) throw new TskError(code, `${ctx.target} was not endorsed: ${why}`);
    return {
      warning: `${ctx.target} is published without an endorsement: ${why}; partners that check the key log refuse it until tsctl keyset adopt ${ctx.target}`,
    };
  };
  const parsed = parseKeyLog(ctx.stored);
  if (parsed !== null && !isKeyLog(parsed)) {
    return refuse('key_log_invalid', `${parsed.invalid} (tsctl doctor)`);
  }
  let log: KeyLog | null = parsed;
  if (log) {
    const problem = await keyLogProblem(log);
    if (problem)
      return refuse('key_log_invalid', `the key log does not verify: ${problem} (tsctl doctor)`);
    if (endorsedKeys(log).get(target.id) === target.jwk.x) {
      target.endorsed_at ??= ctx.nowIso;
      return {};
    }
  }
  const seedOf = (k: Keyset): Promise<Uint8Array | null> =>
    k.id === ctx.target && ctx.createdSeed
      ? Promise.resolve(ctx.createdSeed)
      : readSeed(k, ctx.privateKeys);
  const active = ctx.before.keysets.find((k) => k.state === 'ACTIVE' && k.id !== ctx.target);
  if (!log) {
    // The deployment's first key is the root; a deployment that predates the log starts it
    // from its ACTIVE key, never from a new key beside an ACTIVE one it could not read.
    const rootSeed = active ? await readSeed(active, ctx.privateKeys) : null;
    const root: LogSigner | null = active
      ? rootSeed && { kid: active.id, seed: rootSeed }
      : await signerOf(target, seedOf);
    if (!root) {
      return refuse(
        'endorsement_unavailable',
        active
          ? `the key log starts from the ACTIVE key ${active.id}, whose private key could not be read at the edge`
          : 'no private key could be read to start the key log',
      );
    }
    log = await startKeyLog(ctx.deployment, root, ctx.nowIso);
    mark(ctx.after, root.kid, ctx.nowIso);
    ctx.after.key_log = { root_kid: root.kid, root_fingerprint: log.root_fingerprint };
    if (root.kid === target.id) return { log: serializeKeyLog(log) };
    return append(ctx, log, target, root);
  }
  const vouched = endorsedKeys(log);
  const candidates = [
    ...(active ? [active] : []),
    ...[...ctx.before.keysets].reverse().filter((k) => k !== active),
  ].filter((k) => k.id !== ctx.target && !k.unusable && vouched.get(k.id) === k.jwk.x);
  for (const k of candidates.slice(0, MAX_ENDORSER_READS)) {
    const seed = await readSeed(k, ctx.privateKeys);
    if (seed) return append(ctx, log, target, { kid: k.id, seed });
  }
  return refuse(
    'endorsement_unavailable',
    candidates.length === 0
      ? 'no key set the key log vouches for is left in the keyring'
      : `the private key of ${candidates
          .slice(0, MAX_ENDORSER_READS)
          .map((k) => k.id)
          .join(' and ')} could not be read at the edge`,
  );
}

async function append(
  ctx: EndorsementContext,
  log: KeyLog,
  target: Keyset,
  endorser: LogSigner,
): Promise<EndorsementPlan> {
  const keep = new Set(ctx.after.keysets.map((k) => k.id));
  const next = await appendEndorsement(
    log,
    { kid: target.id, x: target.jwk.x },
    endorser,
    ctx.nowIso,
    keep,
  );
  mark(ctx.after, target.id, ctx.nowIso);
  ctx.after.key_log = { root_kid: next.root.kid, root_fingerprint: next.root_fingerprint };
  return { log: serializeKeyLog(next) };
}

function mark(keyring: Keyring, kid: string, nowIso: string): void {
  const k = keyring.keysets.find((s) => s.id === kid);
  if (k) k.endorsed_at = nowIso;
}

async function signerOf(
  k: Keyset,
  seedOf: (k: Keyset) => Promise<Uint8Array | null>,
): Promise<LogSigner | null> {
  const seed = await seedOf(k);
  return seed ? { kid: k.id, seed } : null;
}

/** The seed of a key set as the edge reads it, when it derives the key set's `x`; else null. */
async function readSeed(
  k: Keyset,
  privateKeys: EdgeSecrets | undefined,
): Promise<Uint8Array | null> {
  if (!privateKeys || k.unusable) return null;
  const text = await privateKeys.get(k.id);
  if (text === null) return null;
  try {
    const seed = decodeSeed(text, k.id);
    return toBase64Url(await publicKeyOf(seed)) === k.jwk.x ? seed : null;
  } catch {
    return null;
  }
}

/**
 * `adopt <kid>`: the kid must be published and able to sign (409 otherwise), since endorsing a
 * key partners cannot fetch, or that nothing can sign with, vouches for nothing useful.
 */
export async function assertEndorsable(
  keyring: Keyring,
  kid: string,
  privateKeys: EdgeSecrets | undefined,
): Promise<void> {
  const k = keyring.keysets.find((s) => s.id === kid);
  if (!k) return;
  if (!PUBLISHED_STATES.has(k.state)) {
    throw new TskError(
      'keyset_not_published',
      `${kid} is ${k.state}: only a published key set (PREPARED, ACTIVE or TAINTED) can be endorsed; restore it first`,
      { details: { keyring } },
    );
  }
  if (k.unusable) {
    throw new TskError(k.unusable.code, `${kid} cannot be endorsed: ${k.unusable.reason}`, {
      details: { keyring },
    });
  }
  if (privateKeys && (await readSeed(k, privateKeys)) === null) {
    throw new TskError(
      'key_material_mismatch',
      `${kid} cannot be endorsed: its private key cannot be read at the edge or does not derive its JWK's x`,
      { details: { keyring } },
    );
  }
}
