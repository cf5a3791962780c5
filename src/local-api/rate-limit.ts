// Fastly reports its write budget (about 1,000 non-GET requests per hour per user) on every write
// in `Fastly-RateLimit-Remaining` / `Fastly-RateLimit-Reset`. The local API reports a budget the
// same way but never enforces it: a long local session must not lock itself out. Tests that need
// a 429 inject one (see faults.ts).

/** Hourly write budget reported in the headers. */
export const WRITES_PER_HOUR = 1000;

const HOUR_MS = 3_600_000;

/** Counts writes per clock hour and produces the rate-limit headers for each. */
export class WriteBudget {
  #windowStart = 0;
  #used = 0;

  /** Records one write and returns the headers to send with its answer. */
  spend(now = Date.now()): Record<string, string> {
    const windowStart = now - (now % HOUR_MS);
    if (windowStart !== this.#windowStart) {
      this.#windowStart = windowStart;
      this.#used = 0;
    }
    this.#used += 1;
    return headers(WRITES_PER_HOUR - this.#used, windowStart + HOUR_MS);
  }

  /** The headers of an (injected) 429: nothing left until the next hour. */
  exhausted(now = Date.now()): Record<string, string> {
    return headers(0, now - (now % HOUR_MS) + HOUR_MS);
  }
}

function headers(remaining: number, resetMs: number): Record<string, string> {
  return {
    'fastly-ratelimit-remaining': String(Math.max(0, remaining)),
    'fastly-ratelimit-reset': String(resetMs / 1000),
  };
}
