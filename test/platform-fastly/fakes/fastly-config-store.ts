// Stand-in for `fastly:config-store` (mapped by vitest.config.ts). Same contract as the runtime:
// the constructor throws a TypeError for a store not linked to the service, and `get` throws a
// TypeError for an empty key or one over 255 UTF-8 bytes.

/** Linked config stores by edge name; tests fill them. */
export const configStores = new Map<string, Map<string, string>>();

/** How often the fake was touched, so tests can prove what the code under test did not do. */
export const configStoreCalls = { opened: 0, gets: 0 };

/** The fake `ConfigStore` class. */
export class ConfigStore {
  readonly #items: Map<string, string>;

  constructor(name: string) {
    configStoreCalls.opened++;
    const items = configStores.get(name);
    if (!items)
      throw new TypeError(`ConfigStore constructor: No ConfigStore named '${name}' exists`);
    this.#items = items;
  }

  get(key: string): string | null {
    configStoreCalls.gets++;
    const size = new TextEncoder().encode(key).length;
    if (size === 0) throw new TypeError('ConfigStore key can not be an empty string');
    if (size > 255) throw new TypeError('ConfigStore key can not be more than 255 characters');
    return this.#items.get(key) ?? null;
  }
}
