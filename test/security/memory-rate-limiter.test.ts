// The local rate limiter under a flood: exact 60-second windows, and a cost per request that does
// not grow with the flood (it counts every call of a public route, limited or not).
import { describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from '../../src/core/rate-limit/memory-rate-limiter.js';

function limiter(): { rl: MemoryRateLimiter; at: (ms: number) => void } {
  let now = 1_700_000_000_000;
  const start = now;
  return {
    rl: new MemoryRateLimiter({ now: () => now }),
    at: (ms) => {
      now = start + ms;
    },
  };
}

describe('MemoryRateLimiter', () => {
  it('counts over an exact sliding 60 s window, per counter and key', async () => {
    const { rl, at } = limiter();
    at(0);
    expect(await rl.increment('verify_requests', 'ip:1')).toBe(1);
    at(30_000);
    expect(await rl.increment('verify_requests', 'ip:1')).toBe(2);
    expect(await rl.increment('admin_requests', 'ip:1')).toBe(1);
    expect(await rl.increment('verify_requests', 'ip:2')).toBe(1);
    at(59_999);
    expect(await rl.increment('verify_requests', 'ip:1')).toBe(3);
    at(60_000); // the call at 0 leaves the window
    expect(await rl.increment('verify_requests', 'ip:1')).toBe(3);
    at(150_000);
    expect(await rl.increment('verify_requests', 'ip:1')).toBe(1);
  });

  it('keeps the cost of a call flat under a flood from one client', async () => {
    const { rl, at } = limiter();
    const started = performance.now();
    let count = 0;
    // 50,000 calls in 50 s, all inside one window: a per-call scan of the window would make this
    // quadratic (about 20 s here); a queue keeps it to milliseconds.
    for (let i = 0; i < 50_000; i++) {
      at(i);
      count = await rl.increment('verify_requests', 'ip:flood');
    }
    expect(count).toBe(50_000);
    expect(performance.now() - started).toBeLessThan(2000);
    at(50_000 + 60_000);
    expect(await rl.increment('verify_requests', 'ip:flood')).toBe(1);
  });

  it('holds a key in the penalty box for its minutes, then lets it go', async () => {
    const { rl, at } = limiter();
    at(0);
    await rl.penalize('ip:1', 2);
    expect(await rl.penaltySeconds('ip:1')).toBe(120);
    at(119_001);
    expect(await rl.penaltySeconds('ip:1')).toBe(1);
    at(120_000);
    expect(await rl.penaltySeconds('ip:1')).toBe(0);
    expect(await rl.penaltySeconds('ip:2')).toBe(0);
  });
});
