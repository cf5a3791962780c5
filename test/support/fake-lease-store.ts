// An in-memory LeaseStoreApi with Fastly KV's compare-and-set semantics.
import type { LeaseStoreApi, VersionedValue } from '../../src/core/ports.js';

/** The fake; `entries` is open for arranging and asserting. */
export class FakeLeaseStore implements LeaseStoreApi {
  readonly entries = new Map<string, VersionedValue>();
  private generation = 1_700_000_000_000;

  async get(key: string): Promise<VersionedValue | null> {
    return this.entries.get(key) ?? null;
  }

  async add(key: string, value: string): Promise<number | null> {
    if (this.entries.has(key)) return null;
    return this.write(key, value);
  }

  async replace(key: string, value: string, generation: number): Promise<number | null> {
    if (this.entries.get(key)?.generation !== generation) return null;
    return this.write(key, value);
  }

  async remove(key: string, generation: number): Promise<boolean> {
    if (this.entries.get(key)?.generation !== generation) return false;
    return this.entries.delete(key);
  }

  private write(key: string, value: string): number {
    const generation = ++this.generation;
    this.entries.set(key, { value, generation });
    return generation;
  }
}
