// Adapters from the `fastly:*` stores to the core's read ports. Stores are opened on first use,
// never at module top level (that code runs at build time under Wizer, where stores do not exist).
import { ConfigStore } from 'fastly:config-store';
import { SecretStore } from 'fastly:secret-store';
import { TskError } from '../../core/errors.js';
import type { EdgeConfig, EdgeSecrets } from '../../core/ports.js';

const utf8 = new TextEncoder();
const MAX_KEY_BYTES = 255;
// The runtime rejects other secret names outright; such a name cannot be stored, so it is absent.
const SECRET_NAME = /^[A-Za-z0-9_.-]{1,255}$/;

/** Opens a store, reporting a store missing from the service as `not_configured`. */
function open<T>(kind: string, name: string, ctor: new (name: string) => T): T {
  try {
    return new ctor(name);
  } catch (cause) {
    // The runtime throws a TypeError both for an unknown name and for a malformed one.
    throw new TskError('not_configured', `${kind} "${name}" is not linked to this service`, {
      cause,
    });
  }
}

/** The Config Store linked as `name`; keys it cannot hold (empty, > 255 bytes) read as null. */
export function configStore(name: string): EdgeConfig {
  let store: ConfigStore | undefined;
  return {
    async get(key) {
      // `get` throws a TypeError for such keys; an unstorable key is simply absent.
      const size = utf8.encode(key).length;
      if (size === 0 || size > MAX_KEY_BYTES) return null;
      store ??= open('Config store', name, ConfigStore);
      return store.get(key);
    },
  };
}

/** The Secret Store linked as `name`; names it cannot hold read as null. */
export function secretStore(name: string): EdgeSecrets {
  let store: SecretStore | undefined;
  return {
    async get(key) {
      if (!SECRET_NAME.test(key)) return null;
      store ??= open('Secret store', name, SecretStore);
      return (await store.get(key))?.plaintext() ?? null;
    },
  };
}
