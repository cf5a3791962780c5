// The taint cutoff (docs/taint-cutoff.md): a TAINTED key vouches only for payloads whose `ts` is
// before the time it was tainted plus a skew (`verify.taint_cutoff_skew_seconds`, default 60 s).
// The cutoff is fixed when the key is tainted and recorded on its key set (`taint_cutoff`), so the
// published documents, `/verify-signature` and a later change of the setting always agree on it.
// Pure: the clock and the setting are passed in.

/** The default skew: how much later than the taint a payload's `ts` may be and still verify. */
export const DEFAULT_TAINT_CUTOFF_SKEW_SECONDS = 60;

/** What the cutoff is read from: a key set's state and its taint times. */
export interface TaintFields {
  state: string;
  tainted_at?: string;
  taint_cutoff?: string;
}

/** The cutoff recorded when a key set is tainted at `nowMs`. */
export function cutoffAt(nowMs: number, skewSeconds: number): string {
  return new Date(nowMs + skewSeconds * 1000).toISOString();
}

/**
 * A TAINTED key set's cutoff (ms), or null for any other state. A key set tainted before cutoffs
 * were recorded has `tainted_at` + the default skew; one without even `tainted_at` (only a
 * hand-written keyring) was tainted at an unknown time, so nothing it signed is vouched for: 0.
 */
export function taintCutoffMs(keyset: TaintFields): number | null {
  if (keyset.state !== 'TAINTED') return null;
  if (keyset.taint_cutoff !== undefined) return Date.parse(keyset.taint_cutoff);
  if (keyset.tainted_at !== undefined) {
    return Date.parse(keyset.tainted_at) + DEFAULT_TAINT_CUTOFF_SKEW_SECONDS * 1000;
  }
  return 0;
}

/** The discovery document's `taint_cutoffs`: every TAINTED kid's cutoff as RFC 3339, in order. */
export function taintCutoffs(
  keysets: ReadonlyArray<TaintFields & { id: string }>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keysets) {
    const ms = taintCutoffMs(k);
    if (ms !== null) out[k.id] = new Date(ms).toISOString();
  }
  return out;
}

/** Why a payload signed by a TAINTED key is refused, or null when it may verify. */
export interface CutoffRefusal {
  /** `error` of `/verify-signature`'s answer. */
  error: 'signed_after_taint_cutoff' | 'tainted_key_payload_without_ts';
  /** A sentence naming the cutoff, for the answer's `message`. */
  reason: string;
}

/**
 * The `ts` (Unix ms) of a payload as Trusted Server signs it (v1.1: compact JSON), or null when
 * it has none usable. The text must be exactly its compact JSON re-serialisation: no whitespace,
 * no escaped or repeated member names (parsers disagree on which repeated member counts, so a
 * forger could show the service an early `ts` and the partner a late one), and `ts` a
 * non-negative whole number of milliseconds.
 */
export function payloadTs(payload: string): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  if (JSON.stringify(parsed) !== payload) return null;
  const ts = (parsed as Record<string, unknown>)['ts'];
  return typeof ts === 'number' && Number.isSafeInteger(ts) && ts >= 0 ? ts : null;
}

/** A `ts` as RFC 3339, or in milliseconds when no date can hold it. */
const when = (ms: number): string =>
  ms <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} (Unix ms)`;

/** The latest time a JavaScript Date holds. */
const MAX_DATE_MS = 8.64e15;

/**
 * Applies a TAINTED key's cutoff to a payload: it verifies only when its `ts` is strictly before
 * the cutoff (a `ts` exactly at the cutoff is refused).
 */
export function checkTaintCutoff(
  kid: string,
  cutoffMs: number,
  payload: string,
): CutoffRefusal | null {
  const ts = payloadTs(payload);
  if (ts !== null && ts < cutoffMs) return null;
  const cutoff = when(cutoffMs);
  if (ts === null) {
    return {
      error: 'tainted_key_payload_without_ts',
      reason: `key ${kid} is tainted: it verifies only a Trusted Server v1.1 payload (compact JSON) whose ts, in Unix milliseconds, is before its taint cutoff ${cutoff}`,
    };
  }
  return {
    error: 'signed_after_taint_cutoff',
    reason: `key ${kid} is tainted: the payload's ts ${when(ts)} is not before its taint cutoff ${cutoff}`,
  };
}
