// One error base for the whole service. Every refusal has a stable `code`; `src/http` maps codes
// to HTTP statuses in one table. Messages are for people and never carry secret material.

/** Every stable error code the service can answer with. */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_kid'
  | 'non_canonical_path'
  | 'request_timeout'
  | 'unauthorized'
  | 'forbidden'
  | 'cross_site_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'keyset_not_found'
  | 'deployment_not_found'
  | 'kid_exists'
  | 'invalid_transition'
  | 'activation_too_early'
  | 'last_active_key'
  | 'key_material_missing'
  | 'key_material_invalid'
  | 'key_material_mismatch'
  | 'key_not_propagated'
  | 'drift_unfoldable'
  | 'keyset_not_published'
  | 'endorsement_unavailable'
  | 'key_log_invalid'
  | 'no_active_key'
  | 'keyring_too_large'
  | 'keyring_corrupt'
  | 'operation_in_progress'
  | 'keyring_version_mismatch'
  | 'secret_exists'
  | 'rate_limited'
  | 'not_configured'
  | 'upstream_failed'
  | 'upstream_timeout'
  | 'outcome_unknown'
  | 'upstream_rate_limited'
  | 'internal';

/** Extra machine-readable facts an error may carry into a problem+json body. */
export type ErrorDetails = Record<string, unknown>;

/** The base of every error the service raises on purpose. */
export class TskError extends Error {
  override readonly name: string = 'TskError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

/** True when `err` is a TskError with one of the given codes. */
export function hasCode(err: unknown, ...codes: ErrorCode[]): err is TskError {
  return err instanceof TskError && codes.includes(err.code);
}
