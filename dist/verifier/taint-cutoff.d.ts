/**
 * `taint_cutoffs` read into ms by kid: an empty map when the document has none (a bare JWKS, or a
 * publisher from before cutoffs), or a sentence saying why it is malformed.
 */
export declare function readTaintCutoffs(value: unknown): Map<string, number> | string;
/** The refusal's detail for a payload dated at or after the cutoff; null when it is before. */
export declare function afterCutoff(kid: string, ts: number, cutoffMs: number): string | null;
