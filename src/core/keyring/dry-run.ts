// What a dry run reports besides the keyring it would commit: the difference from the keyring now
// (key sets added, removed or changed state; kids entering or leaving the JWKS; a new signing
// kid), the writes the real call would make, and warnings about risks the lifecycle table allows
// but an operator should hear about before doing it. Pure: no I/O, the time comes in `ctx`.
import type { ConfigItemOp } from '../ports.js';
import { activeKeyset, publishedKeysets, type Keyring, type Keyset } from './document.js';
import type { MutationPlan } from './engine.js';
import type { Operation } from './transitions.js';
import { activationVerdict } from '../schedule/policy.js';

/**
 * How long after a key stopped signing a signature it made may still be presented to a verifier
 * (Trusted Server's key-rotation guide keeps the old key published for this grace period before
 * deleting it). Unpublishing a key sooner than this after it stopped signing is warned about.
 */
export const RECENT_SIGNATURE_GRACE_MS = 30 * 86_400_000;

/** How the keyring and the JWKS would differ after the change. */
export interface KeyringDiff {
  keysets: {
    added: string[];
    removed: string[];
    /** Key sets whose state would change. */
    changed: Array<{ id: string; from: string; to: string }>;
  };
  /** Kids entering and leaving the published JWKS. */
  jwks: { added: string[]; removed: string[] };
  /** The signing kid before and after. */
  current_kid: { before: string | null; after: string | null; changed: boolean };
}

/** The difference between two keyrings of one deployment. */
export function keyringDiff(before: Keyring, after: Keyring): KeyringDiff {
  const was = new Map(before.keysets.map((k) => [k.id, k]));
  const now = new Map(after.keysets.map((k) => [k.id, k]));
  const changed: KeyringDiff['keysets']['changed'] = [];
  for (const k of after.keysets) {
    const old = was.get(k.id);
    if (old && old.state !== k.state) changed.push({ id: k.id, from: old.state, to: k.state });
  }
  const pubBefore = new Set(publishedKeysets(before).map((k) => k.id));
  const pubAfter = new Set(publishedKeysets(after).map((k) => k.id));
  const currentBefore = activeKeyset(before)?.id ?? null;
  const currentAfter = activeKeyset(after)?.id ?? null;
  return {
    keysets: {
      added: after.keysets.filter((k) => !was.has(k.id)).map((k) => k.id),
      removed: before.keysets.filter((k) => !now.has(k.id)).map((k) => k.id),
      changed,
    },
    jwks: {
      added: [...pubAfter].filter((id) => !pubBefore.has(id)),
      removed: [...pubBefore].filter((id) => !pubAfter.has(id)),
    },
    current_kid: {
      before: currentBefore,
      after: currentAfter,
      changed: currentBefore !== currentAfter,
    },
  };
}

/** One warning: a stable code, the key set concerned if any, and a sentence for people. */
export interface DryRunWarning {
  code: 'recent_signatures' | 'single_published_key' | 'activation_too_early' | (string & {});
  kid?: string;
  message: string;
}

/** What the warnings are judged with. */
export interface WarningContext {
  operation: Operation | 'adopt';
  /** Now, in milliseconds since the epoch. */
  nowMs: number;
  /** See RECENT_SIGNATURE_GRACE_MS. */
  graceMs: number;
  /**
   * The schedule policy's activation dwell: the least time a key set must have been published
   * before it signs (partners' cached JWKS must hold it). Absent: not judged.
   */
  dwellMs?: number;
}

/**
 * The warnings for a change from `before` to `after`. None of them stops the change: the real
 * call does exactly what the dry run says.
 */
export function warnings(before: Keyring, after: Keyring, ctx: WarningContext): DryRunWarning[] {
  const out: DryRunWarning[] = [];
  const stillPublished = new Set(publishedKeysets(after).map((k) => k.id));
  // A key leaving the JWKS (deactivate, remove) soon after it stopped signing: a signature it made
  // may still be presented, and then no longer verifies.
  for (const k of publishedKeysets(before)) {
    if (stillPublished.has(k.id)) continue;
    const stopped = stoppedSigningAt(before, k);
    if (stopped === 'never') continue;
    const label = describeLeaving(after, k.id);
    if (stopped === 'unknown') {
      out.push({
        code: 'recent_signatures',
        kid: k.id,
        message: `${k.id} signed once and the keyring does not say when it stopped; ${label}, so any signature it made within the grace period (${days(ctx.graceMs)} d) stops verifying`,
      });
      continue;
    }
    const since = ctx.nowMs - Date.parse(stopped);
    if (since < ctx.graceMs) {
      out.push({
        code: 'recent_signatures',
        kid: k.id,
        message: `${k.id} stopped signing at ${stopped}, less than the grace period (${days(ctx.graceMs)} d) ago; ${label}, so signatures it made since ${new Date(ctx.nowMs - ctx.graceMs).toISOString()} stop verifying`,
      });
    }
  }
  const published = publishedKeysets(after);
  if (published.length === 1) {
    const only = published[0]?.id ?? '';
    out.push({
      code: 'single_published_key',
      kid: only,
      message: `deployment "${after.deployment}" would publish one key only (${only}); with no successor prepared, the next rotation publishes and signs at once, before partners' caches hold the new key`,
    });
  }
  // A key set that starts signing with this change though published for less than the dwell:
  // `/admin/keys/rotate` (publish and sign at once) and a forced activation. An unforced activate
  // is refused with activation_too_early instead, as the real call would be.
  const signer = activeKeyset(after);
  const signedBefore = activeKeyset(before);
  if (ctx.dwellMs !== undefined && signer && signer.id !== signedBefore?.id) {
    // A key set this change creates (rotate) has been published for no time at all.
    const published = before.keysets.find((k) => k.id === signer.id) ?? {
      issued_at: new Date(ctx.nowMs).toISOString(),
    };
    const verdict = activationVerdict(published, ctx.nowMs, ctx.dwellMs);
    if (!verdict.allowed) {
      out.push({
        code: 'activation_too_early',
        kid: signer.id,
        message: `key set "${signer.id}" would sign though published for less than the activation dwell of ${ctx.dwellMs / 1000} s (allowed from ${verdict.allowedAt}): a partner whose cached JWKS lacks it cannot verify what it signs until their cache refreshes`,
      });
    }
  }
  return out;
}

/**
 * When `keyset` stopped signing: `never` when it never signed (no `activated_at`), else the time
 * the next key set was activated after it (the keyring keeps no other record of it), or `unknown`
 * when that successor is gone from the keyring.
 */
export function stoppedSigningAt(keyring: Keyring, keyset: Keyset): string | 'never' | 'unknown' {
  if (keyset.activated_at === undefined) return 'never';
  const from = Date.parse(keyset.activated_at);
  let next: number | undefined;
  for (const k of keyring.keysets) {
    if (k.id === keyset.id || k.activated_at === undefined) continue;
    const at = Date.parse(k.activated_at);
    if (at >= from && (next === undefined || at < next)) next = at;
  }
  return next === undefined ? 'unknown' : new Date(next).toISOString();
}

/** The writes of a plan, one line each, in the order the real call makes them. */
export function plannedWrites(plan: MutationPlan): string[] {
  const lines: string[] = [];
  if (plan.settlesFirst !== undefined) {
    lines.push(`settle the earlier ${plan.settlesFirst} first (its outcome is not settled yet)`);
  }
  if (plan.createSecret !== undefined) lines.push(`create private key ${plan.createSecret}`);
  if (plan.configOps.length > 0) {
    lines.push(`one bulk config update: ${plan.configOps.map(describeOp).join(', ')}`);
  }
  if (plan.deleteSecret !== undefined) lines.push(`delete private key ${plan.deleteSecret}`);
  return lines;
}

function describeOp(op: ConfigItemOp): string {
  return `${op.op === 'delete' ? 'delete' : 'set'} ${op.key}`;
}

function describeLeaving(after: Keyring, id: string): string {
  return after.keysets.some((k) => k.id === id)
    ? 'it would leave the JWKS'
    : 'it would be removed for good';
}

function days(ms: number): string {
  return String(Math.round((ms / 86_400_000) * 10) / 10);
}
