// What the app needs from the platform it runs on. `src/platform/fastly` and
// `src/platform/node` each build one of these and hand it, with the request, to `handle`.
import type {
  AuditSink,
  Clock,
  EdgeConfig,
  EdgeSecrets,
  Random,
  RateLimiter,
} from '../core/ports.js';
import type { Deployments } from '../core/keyring/open-deployment.js';
import type { Settings } from '../core/settings.js';

/** One structured log line's fields. Never put secret material in them. */
export type LogFields = Record<string, unknown>;

/** Where the app writes operational log lines (one JSON object a line). */
export interface Logger {
  /** Writes one line at the given level. */
  log(level: 'info' | 'warn' | 'error', event: string, fields?: LogFields): void;
}

/** Everything platform-specific the app uses. */
export interface Services {
  readonly settings: Settings;
  readonly clock: Clock;
  readonly random: Random;
  /** An edge Config Store by its edge name (`jwks_store`). */
  configStore(name: string): EdgeConfig;
  /** An edge Secret Store by its edge name (`signing_keys`, `admin_tokens`, `api-keys`). */
  secretStore(name: string): EdgeSecrets;
  /**
   * The management side of each deployment (its engine over the management API, guarded by its
   * lease). The platform chooses the backend; the app only opens deployments, and only for
   * routes that need the authoritative state, so the hot path never reads the API token.
   */
  readonly deployments: Deployments;
  readonly logger: Logger;
  /** Admin rate limiting and the penalty box. */
  readonly rateLimiter: RateLimiter;
  /** The audit trail of admin requests. */
  readonly audit: AuditSink;
}

/** What the platform knows of the client beyond the request itself. */
export interface ClientInfo {
  /** The client's IP address as the platform saw it (Fastly: `event.client.address`). */
  ip: string;
  /**
   * The request target exactly as the client sent it, before any URL parsing normalised it
   * (Node: `req.url`). Absent where the platform only has a parsed URL (Fastly): the app then
   * judges the path of `request.url` as the runtime gives it.
   */
  target?: string;
}

export { STORE_NAMES } from '../core/deployments.js';
