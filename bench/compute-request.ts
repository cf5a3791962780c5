// What the engine benches share: a downstream request for the local Compute host, and a median.
import type { DownstreamRequest, HeaderList } from '../src/local-compute/protocol.js';

/** A request from 127.0.0.1 to `path`, with a JSON body when one is given. */
export function request(
  method: string,
  path: string,
  headers: HeaderList,
  body = '',
): DownstreamRequest {
  return {
    method,
    uri: `http://127.0.0.1${path}`,
    headers: body ? [...headers, ['content-type', 'application/json']] : headers,
    body: new TextEncoder().encode(body),
    clientIp: '127.0.0.1',
    serverIp: '127.0.0.1',
    requestId: '00000000000000000000000000000000',
  };
}

/** The median (the upper one of an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
