// The local equivalent of Fastly's Edge Rate Limiter: exact 60-second sliding windows and a
// penalty box, in memory, over the injected clock. Bounded: the oldest keys are dropped first.
import type { Clock, RateCounterName, RateLimiter } from '../ports.js';

const WINDOW_MS = 60_000;

/** An in-memory RateLimiter. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly box = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  async increment(counter: RateCounterName, key: string): Promise<number> {
    const now = this.clock.now();
    const id = `${counter}\u0000${key}`;
    const recent = (this.hits.get(id) ?? []).filter((t) => t > now - WINDOW_MS);
    recent.push(now);
    this.hits.delete(id); // re-insert so Map order is least recently used first
    this.hits.set(id, recent);
    this.evict(this.hits);
    return recent.length;
  }

  async penaltySeconds(key: string): Promise<number> {
    const until = this.box.get(key);
    if (until === undefined) return 0;
    const left = until - this.clock.now();
    if (left <= 0) {
      this.box.delete(key);
      return 0;
    }
    return Math.ceil(left / 1000);
  }

  async penalize(key: string, minutes: number): Promise<void> {
    this.box.delete(key);
    this.box.set(key, this.clock.now() + minutes * 60_000);
    this.evict(this.box);
  }

  private evict(map: Map<string, unknown>): void {
    while (map.size > this.maxKeys) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}
