// The local equivalent of Fastly's Edge Rate Limiter: exact 60-second sliding windows and a
// penalty box, in memory, over the injected clock. Bounded: the oldest keys are dropped first.
import type { Clock, RateCounterName, RateLimiter } from '../ports.js';

const WINDOW_MS = 60_000;

/**
 * One key's calls in the window, oldest first, as a queue: expired calls are skipped by moving
 * `head`, so a call costs the same however many others are in the window (every call of a public
 * route is counted, a flood included). The array is compacted once most of it is expired.
 */
interface Window {
  times: number[];
  head: number;
}

/** An in-memory RateLimiter. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly hits = new Map<string, Window>();
  private readonly box = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  async increment(counter: RateCounterName, key: string): Promise<number> {
    const now = this.clock.now();
    const id = `${counter}\u0000${key}`;
    const window = this.hits.get(id) ?? { times: [], head: 0 };
    // Times are pushed in clock order; a clock stepped back only keeps a call a little longer.
    while (window.head < window.times.length && (window.times[window.head] ?? 0) <= now - WINDOW_MS)
      window.head++;
    if (window.head > 64 && window.head * 2 > window.times.length) {
      window.times = window.times.slice(window.head);
      window.head = 0;
    }
    window.times.push(now);
    this.hits.delete(id); // re-insert so Map order is least recently used first
    this.hits.set(id, window);
    this.evict(this.hits);
    return window.times.length - window.head;
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
