// Retries of single management-API calls: what is retried (only what cannot change the outcome),
// how long it waits (full jitter, Retry-After, Fastly-RateLimit-Reset) and that no wait runs past
// the budget. The clock, randomness and sleep are fakes, so every wait is an exact number.
import { describe, expect, it } from 'vitest';
import { TskError } from '../../src/core/errors.js';
import type { RetryOptions } from '../../src/fastly-api/index.js';
import { apiWith, json, rejectionOf } from './fake-fetch.js';
import type { Handler } from './fake-fetch.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');

/** A client whose clock moves only when it sleeps; `waits` records every sleep. */
function retrying(handler: Handler, retry: RetryOptions = {}, timeoutMs = 1000) {
  let now = T0;
  const waits: number[] = [];
  const { api, calls } = apiWith(handler, {
    timeoutMs,
    now: () => now,
    retry: {
      random: () => 0.5,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
      ...retry,
    },
  });
  return { api, calls, waits };
}

/** Answers the listed responses in turn (the last one repeats). */
function sequence(...answers: Array<() => Response | Promise<Response>>): Handler {
  let i = 0;
  return () => (answers[Math.min(i++, answers.length - 1)] ?? answers[0]!)();
}

const ok = () => json([]);
const status =
  (code: number, headers: Record<string, string> = {}) =>
  () =>
    json({ msg: `status ${code}` }, code, headers);
const refused = () => {
  const err = new TypeError('fetch failed', {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
  });
  return Promise.reject(err);
};
const reset = () =>
  Promise.reject(new TypeError('fetch failed', { cause: new Error('socket hang up') }));

function tsk(err: unknown): TskError {
  expect(err).toBeInstanceOf(TskError);
  return err as TskError;
}

describe('retries of idempotent calls', () => {
  it('retries a GET through 503s with full-jitter exponential backoff', async () => {
    const { api, calls, waits } = retrying(sequence(status(503), status(502), ok));
    await expect(api.listConfigItems('cs1')).resolves.toEqual([]);
    expect(calls).toHaveLength(3);
    // random() = 0.5 of a ceiling that doubles from 200 ms.
    expect(waits).toEqual([100, 200]);
  });

  it('caps the backoff ceiling at maxDelayMs', async () => {
    const { api, waits } = retrying(sequence(status(500), status(500), status(500), ok), {
      baseDelayMs: 1000,
      maxDelayMs: 1500,
    });
    await api.listConfigItems('cs1');
    expect(waits).toEqual([500, 750, 750]);
  });

  it('gives up after maxRetries with the last error, which says the outcome is unknown', async () => {
    const { api, calls } = retrying(status(503), { maxRetries: 2 });
    const err = tsk(await rejectionOf(api.listConfigItems('cs1')));
    expect(calls).toHaveLength(3);
    expect(err.code).toBe('upstream_failed');
    expect(err.details).toMatchObject({ status: 503, outcome: 'unknown', failure: 'status' });
  });

  it('never retries a write after a dropped connection: that attempt may still land', async () => {
    const put = retrying(sequence(reset, () => new Response('', { status: 200 })));
    const err = tsk(await rejectionOf(put.api.upsertConfigItem('cs1', 'k', 'v')));
    expect(put.calls.map((c) => c.method)).toEqual(['PUT']);
    expect(err.details).toMatchObject({ outcome: 'unknown' });
    const del = retrying(sequence(reset, () => new Response(null, { status: 204 })));
    await rejectionOf(del.api.deleteConfigItem('cs1', 'k'));
    expect(del.calls).toHaveLength(1);
  });

  it('retries a GET that timed out', async () => {
    let first = true;
    const { api, calls } = retrying(
      () => {
        if (!first) return ok();
        first = false;
        return new Promise<Response>(() => {});
      },
      {},
      30,
    );
    await expect(api.listConfigItems('cs1')).resolves.toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('never retries a bulk PATCH after a 5xx, even of upserts only: landing late, it would undo the next commit', async () => {
    const upserts = retrying(sequence(status(503), () => json({ status: 'ok' })));
    const err = tsk(
      await rejectionOf(
        upserts.api.bulkUpdateConfigItems('cs1', [
          { op: 'upsert', key: 'a', value: '1' },
          { op: 'delete', key: 'b' },
        ]),
      ),
    );
    expect(upserts.calls).toHaveLength(1);
    expect(err.details).toMatchObject({ outcome: 'unknown' });
    // A 429 was refused before processing: that one is repeated.
    const limited = retrying(sequence(status(429), () => json({ status: 'ok' })));
    await limited.api.bulkUpdateConfigItems('cs1', [{ op: 'upsert', key: 'a', value: '1' }]);
    expect(limited.calls).toHaveLength(2);
  });

  it('never retries a 4xx other than 429: it was refused, and says so', async () => {
    const { api, calls, waits } = retrying(status(400));
    const err = tsk(await rejectionOf(api.upsertConfigItem('cs1', 'k', 'v')));
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(err.details).toMatchObject({ status: 400, outcome: 'refused' });
  });
});

describe('retries of calls that may have landed', () => {
  it('never retries a POST after a 5xx', async () => {
    const { api, calls } = retrying(status(500));
    const err = tsk(await rejectionOf(api.createConfigStore('x')));
    expect(calls).toHaveLength(1);
    expect(err.details).toMatchObject({ status: 500, outcome: 'unknown' });
  });

  it('never retries a POST after a timeout: upstream_timeout, outcome unknown', async () => {
    const { api, calls } = retrying(() => new Promise<Response>(() => {}), {}, 30);
    const err = tsk(await rejectionOf(api.createConfigStore('x')));
    expect(calls).toHaveLength(1);
    expect(err.code).toBe('upstream_timeout');
    expect(err.details).toMatchObject({ failure: 'timeout', outcome: 'unknown' });
  });

  it('never retries a POST after a connection dropped once sent', async () => {
    const { api, calls } = retrying(reset);
    const err = tsk(await rejectionOf(api.createConfigStore('x')));
    expect(calls).toHaveLength(1);
    expect(err.code).toBe('upstream_failed');
    expect(err.details).toMatchObject({ failure: 'connection', outcome: 'unknown' });
  });

  it('retries a POST whose connection was refused (nothing was sent)', async () => {
    const { api, calls } = retrying(sequence(refused, () => json({ id: 'c1', name: 'x' }, 201)));
    await expect(api.createConfigStore('x')).resolves.toEqual({ id: 'c1', name: 'x' });
    expect(calls).toHaveLength(2);
  });

  it('reports a refused connection as refused once retries run out', async () => {
    const { api } = retrying(refused, { maxRetries: 1 });
    const err = tsk(await rejectionOf(api.createConfigStore('x')));
    expect(err.details).toMatchObject({ failure: 'connection_refused', outcome: 'refused' });
  });

  it('retries a POST that met a 429, waiting as Retry-After says', async () => {
    const { api, calls, waits } = retrying(
      sequence(status(429, { 'Retry-After': '3' }), () => json({ id: 'c1', name: 'x' }, 201)),
    );
    await api.createConfigStore('x');
    expect(calls).toHaveLength(2);
    expect(waits).toEqual([3000]);
  });

  it('reads Retry-After as an HTTP date, and Fastly-RateLimit-Reset', async () => {
    const date = new Date(T0 + 4000).toUTCString();
    const a = retrying(sequence(status(429, { 'Retry-After': date }), ok));
    await a.api.listConfigItems('cs1');
    expect(a.waits).toEqual([4000]);
    const b = retrying(
      sequence(status(429, { 'Fastly-RateLimit-Reset': String(T0 / 1000 + 7) }), ok),
    );
    await b.api.listConfigItems('cs1');
    expect(b.waits).toEqual([7000]);
  });

  it('never retries a conditional KV write after a 5xx: a repeat that landed would read as lost', async () => {
    const add = retrying(status(503));
    tsk(await rejectionOf(add.api.kvPut('kv1', 'k', 'v', { add: true })));
    expect(add.calls).toHaveLength(1);
    const replace = retrying(status(503));
    tsk(await rejectionOf(replace.api.kvPut('kv1', 'k', 'v', { ifGenerationMatch: '7' })));
    expect(replace.calls).toHaveLength(1);
    const remove = retrying(status(503));
    tsk(await rejectionOf(remove.api.kvDelete('kv1', 'k', { ifGenerationMatch: '7' })));
    expect(remove.calls).toHaveLength(1);
  });
});

describe('the retry budget', () => {
  it('does not sleep past maxTotalMs: a wait that would end after it fails at once', async () => {
    const { api, calls, waits } = retrying(status(429, { 'Retry-After': '120' }), {
      maxTotalMs: 60_000,
    });
    const err = tsk(await rejectionOf(api.listConfigItems('cs1')));
    expect(err.code).toBe('upstream_rate_limited');
    expect(err.details).toMatchObject({ retryAfterSeconds: 120, outcome: 'refused' });
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('honours an absolute deadline tighter than the budget', async () => {
    const { api, calls, waits } = retrying(status(503), { deadlineMs: T0 + 250 });
    tsk(await rejectionOf(api.listConfigItems('cs1')));
    // 100 ms fits before the deadline, the next 200 ms would not.
    expect(waits).toEqual([100]);
    expect(calls).toHaveLength(2);
  });

  it('turns retrying off with maxRetries: 0', async () => {
    const { api, calls } = retrying(status(503), { maxRetries: 0 });
    tsk(await rejectionOf(api.listConfigItems('cs1')));
    expect(calls).toHaveLength(1);
  });

  it('bounds even the first attempt by an absolute deadline', async () => {
    let now = Date.now();
    const { api, calls } = apiWith(() => new Promise<Response>(() => {}), {
      timeoutMs: 10_000,
      now: () => now,
      retry: { deadlineMs: now + 30, maxRetries: 0 },
    });
    const started = performance.now();
    const err = tsk(await rejectionOf(api.listConfigItems('cs1')));
    expect(err.code).toBe('upstream_timeout');
    expect(err.details).toMatchObject({ timeoutMs: 30 });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(calls).toHaveLength(1);
    // Past the deadline, nothing is sent at all, and the error says so.
    now += 1000;
    const late = tsk(await rejectionOf(api.listConfigItems('cs1')));
    expect(late.details).toMatchObject({ outcome: 'refused' });
    expect(calls).toHaveLength(1);
  });
});
