// What a failed management-API write means for the stores. Only a definite refusal (a 4xx
// answer: the API looked at the request and did not apply it) means the write did not happen. A
// timeout, a dropped connection, a 5xx or an answer that cannot be read is an unknown outcome:
// the write may have landed, or may still land later.
import { TskError } from '../errors.js';

/** `refused`: it did not happen and will not. `unknown`: it may have, or may still. */
export type WriteOutcome = 'refused' | 'unknown';

/** Classifies the error a management-API write failed with. */
export function writeOutcome(err: unknown): WriteOutcome {
  if (!(err instanceof TskError)) return 'unknown';
  const declared = err.details?.['outcome'];
  if (declared === 'refused' || declared === 'not_committed') return 'refused';
  if (declared === 'unknown') return 'unknown';
  if (err.code === 'secret_exists' || err.code === 'upstream_rate_limited') return 'refused';
  const status = err.details?.['status'];
  if (typeof status === 'number' && status >= 400 && status < 500) return 'refused';
  return 'unknown';
}
