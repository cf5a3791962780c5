// An in-memory LeaseStoreApi with Fastly KV's compare-and-set semantics. Generations start
// above 2^53, as Fastly's microsecond-like ones can, so code that turns them into numbers fails.
import type { LeaseStoreApi, VersionedValue } from '../../src/core/ports.js';

/** The fake; `entries` is open for arranging and asserting. */
export class FakeLeaseStore implements LeaseStoreApi {
  readonly entries = new Map<string, VersionedValue>();
  private generation = 9_007_199_254_740_993n; // 2^53 + 1

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
    this.entries.set(key, { value, generation: String(this.generation) });
  }
}
