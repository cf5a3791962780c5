// A hand-written stand-in for fetch: records every request (body read as text) and answers
// with whatever the test's handler returns. No mock library, so the assertions read plainly.
import type { FetchLike, RetryOptions } from '../../src/fastly-api/index.js';
import { FastlyApi } from '../../src/fastly-api/index.js';

/** A request as the fake saw it. */
export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/** Answers one recorded request. */
export type Handler = (req: Recorded) => Response | Promise<Response>;

/** The token every unit test uses; no error may ever contain it. */
export const TOKEN = 'tsk-test-token-9f8e7d6c5b4a3210';

/** A fetch that records requests and answers with `handler`. */
export function fakeFetch(handler: Handler): { fetch: FetchLike; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const fetch: FetchLike = async (request) => {
    const recorded: Recorded = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: await request.text(),
    };
    calls.push(recorded);
    return handler(recorded);
  };
  return { fetch, calls };
}

/** A FastlyApi over a fake fetch answering with `handler`. */
export function apiWith(
  handler: Handler,
  options: { timeoutMs?: number; now?: () => number; retry?: RetryOptions } = {},
): { api: FastlyApi; calls: Recorded[] } {
  const { fetch, calls } = fakeFetch(handler);
  const api = new FastlyApi({
    endpoint: 'https://api.fastly.test',
    token: TOKEN,
    fetch,
    timeoutMs: options.timeoutMs ?? 1000,
    ...(options.now ? { now: options.now } : {}),
    // One attempt per call unless a test is about retries, so call counts stay exact.
    retry: options.retry ?? { maxRetries: 0 },
  });
  return { api, calls };
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** The rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
