// One table from error codes to HTTP statuses, and the one place unknown errors are turned into
// a logged 500 that reveals nothing.
import { TskError, type ErrorCode } from '../core/errors.js';
import type { Logger } from './services.js';

/** HTTP status for every error code. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  invalid_request: 400,
  invalid_kid: 400,
  non_canonical_path: 400,
  request_timeout: 408,
  unauthorized: 401,
  forbidden: 403,
  cross_site_request: 403,
  not_found: 404,
  keyset_not_found: 404,
  deployment_not_found: 404,
  method_not_allowed: 405,
  kid_exists: 409,
  secret_exists: 409,
  invalid_transition: 409,
  activation_too_early: 409,
  last_active_key: 409,
  key_material_missing: 409,
  key_material_invalid: 409,
  key_material_mismatch: 409,
  key_not_propagated: 409,
  drift_unfoldable: 409,
  keyset_not_published: 409,
  endorsement_unavailable: 409,
  key_log_invalid: 409,
  no_active_key: 409,
  keyring_too_large: 409,
  operation_in_progress: 409,
  keyring_version_mismatch: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  keyring_corrupt: 500,
  internal: 500,
  upstream_failed: 502,
  not_configured: 503,
  upstream_rate_limited: 503,
  outcome_unknown: 503,
  upstream_timeout: 504,
};

/** Human titles for problem+json. */
export const TITLE_OF: Readonly<Record<ErrorCode, string>> = {
  invalid_request: 'Invalid request',
  invalid_kid: 'Invalid kid',
  non_canonical_path: 'Non-canonical path',
  request_timeout: 'Request timeout',
  unauthorized: 'Authentication required',
  forbidden: 'Forbidden',
  cross_site_request: 'Cross-site request',
  not_found: 'Not found',
  keyset_not_found: 'Key set not found',
  deployment_not_found: 'Deployment not found',
  method_not_allowed: 'Method not allowed',
  kid_exists: 'Kid already exists',
  secret_exists: 'Secret already exists',
  invalid_transition: 'Invalid transition',
  activation_too_early: 'Activation too early',
  last_active_key: 'Last active key',
  key_material_missing: 'Private key missing',
  key_material_invalid: 'Key material invalid',
  key_material_mismatch: 'Private key does not match its JWK',
  key_not_propagated: 'Private key not visible at the edge yet',
  drift_unfoldable: 'Store drift cannot be folded',
  keyset_not_published: 'Key set not published',
  endorsement_unavailable: 'No key can endorse it',
  key_log_invalid: 'Key log invalid',
  no_active_key: 'No active key',
  keyring_too_large: 'Keyring too large',
  operation_in_progress: 'Operation in progress',
  keyring_version_mismatch: 'Keyring version mismatch',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  keyring_corrupt: 'Keyring corrupt',
  internal: 'Internal error',
  upstream_failed: 'Fastly API failed',
  not_configured: 'Service not configured',
  upstream_rate_limited: 'Fastly API rate limit reached',
  upstream_timeout: 'Fastly API timed out',
  outcome_unknown: 'Outcome unknown',
};

/** Turns anything thrown into a TskError; unknown errors are logged and become a bare `internal`. */
export function asTskError(err: unknown, logger: Logger, requestId: string): TskError {
  if (err instanceof TskError) return err;
  logger.log('error', 'unhandled_error', {
    request_id: requestId,
    error: err instanceof Error ? err.name : typeof err,
    // The message of an unknown error may carry anything; only its first line, bounded.
    message: err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : undefined,
  });
  return new TskError('internal', `internal error (request ${requestId})`);
}
