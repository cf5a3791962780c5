// HTTP/1.1 written byte for byte on a socket, for requests `fetch` will not send: a lying
// Content-Length, CR or LF inside a header, obsolete line folding, TRACE, unnormalised `.`/`..`
// segments (fetch resolves them before sending), duplicate Authorization headers.
import { connect } from 'node:net';

/** One request line, its headers in order (duplicates allowed) and a body sent as is. */
export interface RawRequest {
  method: string;
  target: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body?: Uint8Array;
}

/** What came back; `status` is 0 when the server closed the connection without answering. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
  /** Everything the server sent, as latin1 text (pipelined answers included). */
  raw: string;
}

/**
 * Serialises a request. Adds `Host`, `Connection: close` (so the server ends the exchange) and a
 * truthful Content-Length unless the request brings its own framing headers.
 */
export function serialize(request: RawRequest): Buffer {
  const framed = request.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  const lines = [
    `${request.method} ${request.target} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Connection: close',
    ...request.headers.map(([k, v]) => `${k}: ${v}`),
  ];
  if (request.body && !framed) lines.push(`Content-Length: ${request.body.byteLength}`);
  return Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
    request.body ?? new Uint8Array(0),
  ]);
}

/** Sends raw bytes to host:port and reads until the server closes (or `timeoutMs`). */
export function sendRaw(
  port: number,
  bytes: Uint8Array,
  timeoutMs = 3000,
  host = '127.0.0.1',
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseResponse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A reset after a refusal is normal for a request whose body the server did not read.
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}

/** Parses one HTTP/1.1 response (status line, headers, a plain or chunked body). */
export function parseResponse(data: Buffer): RawResponse {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (!status?.[1] || end < 0) return { status: 0, headers: new Headers(), body: '', raw: text };
  const headers = new Headers();
  for (const line of text.slice(0, end).split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = data.subarray(end + 4); // latin1: one character per byte
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(body);
  return { status: Number(status[1]), headers, body: body.toString('utf8'), raw: text };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** `total` bytes of spaces framed as HTTP/1.1 chunks of `chunkSize`, with the closing chunk. */
export function chunkedBody(total: number, chunkSize = 4000): Buffer {
  const parts: Buffer[] = [];
  for (let left = total; left > 0; left -= chunkSize) {
    const size = Math.min(chunkSize, left);
    parts.push(Buffer.from(`${size.toString(16)}\r\n${' '.repeat(size)}\r\n`, 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/** A connection the test drives by hand: partial writes, pauses, a reset. */
export interface RawConnection {
  write(bytes: string | Uint8Array): void;
  /** Closes abruptly (TCP RST), as a client that gives up mid-request. */
  reset(): void;
  /** Resolves once the server has sent `text` (e.g. an interim `100 Continue`). */
  received(text: string): Promise<void>;
  /** What the server sent before it closed, and how long after connecting it closed. */
  readonly closed: Promise<RawResponse & { afterMs: number }>;
}

/** Opens a connection; resolves once it is established. */
export function openRaw(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    const waiters: Array<{ text: string; done: () => void }> = [];
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const sofar = Buffer.concat(chunks).toString('latin1');
      for (const w of waiters.splice(0)) {
        if (sofar.includes(w.text)) w.done();
        else waiters.push(w);
      }
    });
    const closed = new Promise<RawResponse & { afterMs: number }>((done) => {
      socket.on('close', () =>
        done({
          ...parseResponse(Buffer.concat(chunks)),
          afterMs: performance.now() - started,
        }),
      );
    });
    // A reset from either side ends the exchange; `closed` reports what arrived before it.
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      resolve({
        write: (bytes) => void socket.write(bytes),
        reset: () => void socket.resetAndDestroy(),
        received: (text) =>
          new Promise<void>((done) => {
            if (Buffer.concat(chunks).toString('latin1').includes(text)) done();
            else waiters.push({ text, done });
          }),
        closed,
      }),
    );
    socket.once('error', reject);
  });
}
