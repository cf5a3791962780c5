// Stand-in for `fastly:edge-rate-limiter` (mapped by vitest.config.ts): exact counts per entry,
// and the runtime's argument checks (windows 1/10/60, durations 10..60, TTL 1..60 minutes).

/** Every increment and box entry, for assertions. */
export const rateLimiterState = {
  counts: new Map<string, number>(),
  boxed: new Map<string, number>(),
  /** When true, every call throws as a service without Edge Rate Limiting might. */
  unavailable: false,
};

function check(): void {
  if (rateLimiterState.unavailable) throw new Error('Edge Rate Limiting is not enabled');
}

/** The fake `RateCounter`. */
export class RateCounter {
  constructor(private readonly name: string) {}

  increment(entry: string, delta: number): void {
    check();
    const key = `${this.name}/${entry}`;
    rateLimiterState.counts.set(key, (rateLimiterState.counts.get(key) ?? 0) + delta);
  }

  lookupCount(entry: string, duration: number): number {
    if (![10, 20, 30, 40, 50, 60].includes(duration)) throw new TypeError('bad duration');
    return rateLimiterState.counts.get(`${this.name}/${entry}`) ?? 0;
  }

  lookupRate(entry: string, window: number): number {
    if (![1, 10, 60].includes(window)) throw new TypeError('bad window');
    return (rateLimiterState.counts.get(`${this.name}/${entry}`) ?? 0) / window;
  }
}

/** The fake `PenaltyBox`. */
export class PenaltyBox {
  constructor(private readonly name: string) {}

  add(entry: string, timeToLive: number): void {
    check();
    if (!(timeToLive >= 1 && timeToLive <= 60)) throw new TypeError('timeToLive must be 1..60');
    rateLimiterState.boxed.set(`${this.name}/${entry}`, timeToLive);
  }

  has(entry: string): boolean {
    check();
    return rateLimiterState.boxed.has(`${this.name}/${entry}`);
  }
}

/** The fake `EdgeRateLimiter` (unused by the app, present because the module exports it). */
export class EdgeRateLimiter {
  constructor(
    readonly rateCounter: RateCounter,
    readonly penaltyBox: PenaltyBox,
  ) {}
}
