// An in-memory LeaseStoreApi with Fastly KV's compare-and-set semantics.
import type { LeaseStoreApi, VersionedValue } from '../../src/core/ports.js';

/** The fake; `entries` is open for arranging and asserting. */
export class FakeLeaseStore implements LeaseStoreApi {
  readonly entries = new Map<string, VersionedValue>();
  // Past 2^53, as Fastly's 64-bit generations can be: exactness is part of the contract.
  private generation = 9_007_199_254_740_993n;

  async get(key: string): Promise<VersionedValue | null> {
    return this.entries.get(key) ?? null;
  }

  async add(key: string, value: string): Promise<boolean> {
    if (this.entries.has(key)) return false;
    this.write(key, value);
    return true;
  }

  async replace(key: string, value: string, generation: string): Promise<boolean> {
    if (this.entries.get(key)?.generation !== generation) return false;
    this.write(key, value);
    return true;
  }

  async remove(key: string, generation: string): Promise<boolean> {
    if (this.entries.get(key)?.generation !== generation) return false;
    return this.entries.delete(key);
  }

  private write(key: string, value: string): void {
    this.generation += 1n;
    this.entries.set(key, { value, generation: this.generation.toString() });
  }
}
