// The `Services` of the local edge: edge reads served straight from the local Fastly API's state
// (so a rotation is visible to the next request), writes through its HTTP API like on Fastly.
import { randomBytes } from 'node:crypto';
import { MemoryRateLimiter } from '../../core/rate-limit/memory-rate-limiter.js';
import type { AuditSink, EdgeConfig, EdgeSecrets } from '../../core/ports.js';
import type { Settings } from '../../core/settings.js';
import { fastlyDeployments } from '../../fastly-api/index.js';
import type { Logger, Services } from '../../http/services.js';
import type { LocalApiState } from '../../local-api/index.js';

/** Services over a running local API. `settings` must already point at the local stores. */
export function localServices(
  settings: Settings,
  state: LocalApiState,
  logger: Logger,
  audit: AuditSink,
): Services {
  const decoder = new TextDecoder();
  const clock = { now: () => Date.now() };
  const random = { bytes: (n: number) => new Uint8Array(randomBytes(n)) };
  const secretStore = (name: string): EdgeSecrets => ({
    async get(key) {
      const store = state.findSecretStore(name);
      const bytes = store ? state.secretPlaintext(store.id, key) : null;
      return bytes ? decoder.decode(bytes) : null;
    },
  });
  const edge = {
    settings,
    clock,
    random,
    configStore: (name: string): EdgeConfig => ({
      async get(key) {
        const store = state.findConfigStore(name);
        // As an edge sees it: behind the API by its propagation delay (TSK_PROPAGATION_DELAY_MS).
        return store ? state.edgeConfigItem(store.id, key) : null;
      },
    }),
    secretStore,
  };
  return {
    ...edge,
    // One limiter for the life of the process, as Fastly's counters outlive a request.
    rateLimiter: new MemoryRateLimiter(clock),
    audit,
    // Writes go through the local API over HTTP, exactly as on Fastly.
    deployments: fastlyDeployments({ ...edge, fetch: (request) => fetch(request) }),
    logger,
  };
}

/** JSON lines on a stream (stdout by default). */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  return {
    log(level, event, fields) {
      write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
    },
  };
}
