// The Edge Rate Limiter in memory, for the life of the host (Fastly's counters outlive a request):
// rate counters keep one-second buckets for the last minute, penalty boxes an expiry per entry.

const WINDOW_SECONDS = 60;

export class MemoryErl {
  private readonly counters = new Map<string, Map<string, Map<number, number>>>();
  private readonly boxes = new Map<string, Map<string, number>>();

  constructor(private readonly now: () => number) {}

  increment(counter: string, entry: string, delta: number): void {
    const second = Math.floor(this.now() / 1000);
    const byEntry = this.counters.get(counter) ?? new Map<string, Map<number, number>>();
    this.counters.set(counter, byEntry);
    const buckets = byEntry.get(entry) ?? new Map<number, number>();
    byEntry.set(entry, buckets);
    buckets.set(second, (buckets.get(second) ?? 0) + delta);
    for (const s of buckets.keys()) if (s <= second - WINDOW_SECONDS) buckets.delete(s);
  }

  /** Sum of increments in the last `seconds` seconds (the ABI allows 10..60). */
  count(counter: string, entry: string, seconds: number): number {
    const buckets = this.counters.get(counter)?.get(entry);
    if (!buckets) return 0;
    const second = Math.floor(this.now() / 1000);
    let total = 0;
    for (const [s, n] of buckets) if (s > second - Math.max(1, seconds)) total += n;
    return total;
  }

  /** Increments per second over the window (Fastly estimates it; here it is exact). */
  rate(counter: string, entry: string, seconds: number): number {
    const window = Math.max(1, seconds);
    return Math.floor(this.count(counter, entry, window) / window);
  }

  penalize(box: string, entry: string, ttlSeconds: number): void {
    const entries = this.boxes.get(box) ?? new Map<string, number>();
    this.boxes.set(box, entries);
    // As Fastly: the TTL is truncated to whole minutes and kept between 1 minute and 1 hour.
    const ttl = Math.min(3600, Math.max(60, Math.floor(ttlSeconds / 60) * 60));
    entries.set(entry, this.now() + ttl * 1000);
  }

  penalized(box: string, entry: string): boolean {
    const until = this.boxes.get(box)?.get(entry);
    return until !== undefined && until > this.now();
  }
}
