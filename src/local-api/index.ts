// A loopback implementation of the Fastly management API subset this project uses (config
// stores and items, secret stores and secrets, KV stores and keys, and services with their
// versions, resource links, which attach the stores to a service, and backends), faithful to Fastly's paths,
// encodings and status codes, with its state persisted in one JSON file. A local service has no
// package, domains or backends: activating a version only records it as active (and locked).
//
// Fastly's CLI works against it with FASTLY_API_ENDPOINT=<url>, FASTLY_API_TOKEN=<token>,
// FASTLY_ACCOUNT_ENDPOINT=<url> (it fetches OpenID metadata first; any JSON answer will do) and,
// for `secret-store-entry create`, FASTLY_USE_API_SIGNING_KEY=1 (client keys are signed locally).
export type {
  FaultSpec,
  LocalApi,
  LocalApiOptions,
  LocalApiState,
  RequestLogEntry,
  StoreRef,
} from './types.js';
export { startLocalApi } from './server.js';
export {
  RUNNING_FILE,
  StateDirInUseError,
  readRunningInstance,
  updateClaim,
  type RunningInstance,
} from './instance-lock.js';
