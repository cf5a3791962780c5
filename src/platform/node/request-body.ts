// A Node request body as the Fetch `ReadableStream` the app reads, built by hand rather than with
// `Readable.toWeb`: that adapter keeps pushing the socket's data into a stream the app has already
// cancelled (a body refused at 4096 bytes), which throws outside any promise and ends the process.
// Here every event after the app is done with the body is discarded, a client that stalls or goes
// away errors the stream with a TskError the app can answer, and nothing is read unless the app
// asks for it (backpressure: one socket chunk at a time).
import type { IncomingMessage } from 'node:http';
import { TskError } from '../../core/errors.js';

/** How long the app waits for a body. */
export interface BodyTimeouts {
  /** Longest silence while the app waits for the next chunk. */
  idleMs: number;
  /** The whole body must have arrived by then (a `performance.now()` instant). */
  deadline: number;
}

/** A request body and what the edge needs to know about it once the app has answered. */
export interface NodeBody {
  readonly stream: ReadableStream<Uint8Array>;
  /**
   * Reads and discards what the app left unread, so a kept-alive connection can go on to its next
   * request. Gives up at once if more than `maxBytes` are declared to come, else past `maxBytes`,
   * `maxMs`, the idle time or the deadline; true when the whole body arrived (false: the
   * connection must close, since its remaining bytes are not a request).
   */
  drain(maxBytes: number, maxMs: number): Promise<boolean>;
}

type State = 'open' | 'closed' | 'failed' | 'released';

/** Wraps `req` (which must not have been read yet). */
export function nodeRequestBody(req: IncomingMessage, timeouts: BodyTimeouts): NodeBody {
  let state: State = 'open';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  const settle = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const pending = wake;
    wake = undefined;
    pending?.();
  };
  const fail = (err: TskError): void => {
    if (state !== 'open') return;
    state = 'failed';
    settle();
    controller?.error(err);
  };
  const timeLeft = (): number => Math.min(timeouts.idleMs, timeouts.deadline - performance.now());
  const timedOut = (): TskError =>
    performance.now() >= timeouts.deadline
      ? new TskError('request_timeout', 'the request body took too long to arrive')
      : new TskError(
          'request_timeout',
          `no part of the request body arrived for ${timeouts.idleMs} ms`,
        );

  // Paused before the first listener, so nothing flows until the app reads.
  req.pause();
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    received += chunk.byteLength;
    if (state !== 'open') return; // the app is done with the body: discarded
    controller?.enqueue(new Uint8Array(chunk)); // a copy: the app may keep it past this tick
    req.pause();
    settle();
  });
  req.on('end', () => {
    if (state !== 'open') return;
    state = 'closed';
    settle();
    controller?.close();
  });
  const aborted = (): void =>
    fail(new TskError('invalid_request', 'the client went away before sending the whole body'));
  req.on('error', aborted);
  req.on('close', () => {
    if (!req.complete) aborted();
  });

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (state !== 'open') return;
        return new Promise<void>((resolve) => {
          wake = resolve;
          const wait = timeLeft();
          if (wait <= 0) {
            fail(timedOut());
            return;
          }
          timer = setTimeout(() => fail(timedOut()), wait);
          req.resume();
        });
      },
      cancel() {
        // The app refused the body (e.g. over 4096 bytes); the rest is for `drain`.
        if (state === 'open') state = 'released';
        settle();
      },
    },
    // No read-ahead: the socket is read only while the app waits for data.
    { highWaterMark: 0 },
  );

  return {
    stream,
    drain(maxBytes, maxMs) {
      if (req.complete) return Promise.resolve(true);
      if (state === 'failed' || req.destroyed) return Promise.resolve(false);
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared - received > maxBytes) {
        return Promise.resolve(false);
      }
      if (state === 'open') state = 'released';
      settle();
      return new Promise<boolean>((resolve) => {
        let seen = 0;
        const done = (whole: boolean): void => {
          clearTimeout(limit);
          req.off('data', onData);
          req.off('end', onEnd);
          req.off('close', onClose);
          resolve(whole);
        };
        const onData = (chunk: Buffer): void => {
          seen += chunk.byteLength;
          if (seen > maxBytes) done(false);
        };
        const onEnd = (): void => done(true);
        const onClose = (): void => done(req.complete);
        const limit = setTimeout(() => done(false), Math.max(0, Math.min(maxMs, timeLeft())));
        req.on('data', onData);
        req.once('end', onEnd);
        req.once('close', onClose);
        req.resume();
      });
    },
  };
}
