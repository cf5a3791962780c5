// The publisher's taint cutoffs: the discovery document's `taint_cutoffs` maps each tainted kid
// to an RFC 3339 time; a signature by that key verifies only when its payload's `ts` is before it
// (the publisher's own `/verify-signature` applies the same rule). A key tainted because it leaked
// thus stops vouching for new forgeries at once, while requests signed before the taint verify.

/** RFC 3339 with a time zone, as the publisher writes it; Date.parse alone takes far more. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/i;

/**
 * `taint_cutoffs` read into ms by kid: an empty map when the document has none (a bare JWKS, or a
 * publisher from before cutoffs), or a sentence saying why it is malformed.
 */
export function readTaintCutoffs(value: unknown): Map<string, number> | string {
  const out = new Map<string, number>();
  if (value === undefined) return out;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'the discovery document has a malformed taint_cutoffs (not an object)';
  for (const [kid, at] of Object.entries(value as Record<string, unknown>)) {
    const ms = typeof at === 'string' && RFC3339.test(at) ? Date.parse(at) : Number.NaN;
    if (!Number.isFinite(ms))
      return 'the discovery document has a malformed taint_cutoffs (a cutoff is not an RFC 3339 time)';
    out.set(kid, ms);
  }
  return out;
}

/** The refusal's detail for a payload dated at or after the cutoff; null when it is before. */
export function afterCutoff(kid: string, ts: number, cutoffMs: number): string | null {
  if (ts < cutoffMs) return null;
  return `key "${kid}" is tainted: the payload's ts ${iso(ts)} is not before its taint cutoff ${iso(cutoffMs)}`;
}

const iso = (ms: number): string =>
  Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} (Unix ms)`;
