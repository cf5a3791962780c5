// A Node HTTP server around the app: converts each request to a Fetch `Request`, calls
// `handle`, and streams the `Response` back. Besides that it only protects the process from its
// clients: timeouts for slow headers and bodies, a cap on connections per client, and body
// handling that survives a client that sends too much or goes away (see request-body.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handle, handleForbiddenMethod } from '../../http/app.js';
import { keyDocumentTarget, storedDocumentAnswer } from '../../http/routes/discovery.js';
import type { Services } from '../../http/services.js';
import { nodeRequestBody, type NodeBody } from './request-body.js';

/** A listening edge server. */
export interface EdgeServer {
  url: string;
  close(): Promise<void>;
}

/**
 * How much of a body the app left unread (e.g. refused at 4096 bytes) is skipped, and for how
 * long the answer waits for it, to keep the connection; beyond either, the answer closes it.
 */
const DRAIN_BYTES = 1 << 20;
const DRAIN_MS = 1000;

/** Starts serving the app with `services` on host:port (0 = any free port). */
export async function startEdgeServer(
  services: Services,
  host: string,
  port: number,
): Promise<EdgeServer> {
  const limits = services.settings.local_edge;
  // How often Node looks for requests past their timeouts: at most a quarter of the header time.
  const checkEvery = Math.max(10, Math.min(1000, Math.floor(limits.headers_timeout_ms / 4)));
  const server = createServer(
    {
      // Node's own clock runs from the connection's start (or the end of the previous request)
      // and answers 408 itself, silent connections included. The body has its own, tighter timers
      // (request-body.ts) so that the app answers that 408 and audits it; Node's request timeout
      // stays behind them as a backstop.
      headersTimeout: limits.headers_timeout_ms,
      requestTimeout: limits.headers_timeout_ms + limits.body_timeout_ms,
      connectionsCheckingInterval: checkEvery,
    },
    (req, res) => {
      void serve(req, res, services);
    },
  );
  limitConnections(server, limits.max_connections_per_client);
  await listen(server, host, port);
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** At most `max` open connections per client IP; more are closed at once, before a byte is read. */
function limitConnections(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? 'unknown';
    const count = (open.get(ip) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(ip, count);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left > 0) open.set(ip, left);
      else open.delete(ip);
    });
  });
}

/**
 * Partners' hot path: a GET or HEAD of a key document, without a body, answered as the app would
 * (the same function renders its status, headers and body) but without a `Request`, a `Response`
 * and their streams, which cost several times the route itself. False when the app must answer
 * (any other request, or no stored document that agrees with Trusted Server's items).
 */
async function serveStoredDocument(
  req: IncomingMessage,
  res: ServerResponse,
  services: Services,
): Promise<boolean> {
  // Every deployment's documents (Trusted Server's paths and /.well-known/deployments/NAME/...).
  const target = keyDocumentTarget(req.url ?? '', services.settings);
  if (target === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined)
    return false;
  const answer = await storedDocumentAnswer(
    services,
    target.kind,
    req.method,
    req.headers['if-none-match'] ?? null,
    target.configStoreName,
  );
  if (answer === null) return false;
  if (res.destroyed || req.socket.destroyed) return true;
  if (answer.body === null) {
    res.writeHead(answer.status, answer.headers);
    res.end();
    return true;
  }
  // With its length, not chunked: one write, as a static file server sends it.
  const body = Buffer.from(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(body.length) });
  res.end(body);
  return true;
}

async function serve(req: IncomingMessage, res: ServerResponse, services: Services): Promise<void> {
  // A client gone mid-answer makes writes fail; that is its loss, never the process's.
  res.on('error', () => undefined);
  try {
    if (await serveStoredDocument(req, res, services)) return;
  } catch {
    // A store read that failed: the app's path answers (and reports) it.
  }
  const limits = services.settings.local_edge;
  const body = nodeRequestBody(req, {
    idleMs: limits.body_idle_timeout_ms,
    deadline: performance.now() + limits.body_timeout_ms,
  });
  try {
    // The raw target goes to the app untouched: it refuses any spelling it would not serve as is.
    const client = { ip: req.socket.remoteAddress ?? 'unknown', target: req.url ?? '/' };
    const method = (req.method ?? 'GET').toUpperCase();
    const response = FETCH_FORBIDDEN_METHODS.has(method)
      ? await handleForbiddenMethod(method, toRequest(req, body, 'GET'), services, client)
      : await handle(toRequest(req, body), services, client);
    const whole = await body.drain(DRAIN_BYTES, DRAIN_MS);
    if (res.destroyed || req.socket.destroyed) return;
    res.statusCode = response.status;
    response.headers.forEach((value, key) => res.setHeader(key, value));
    // What is left of the body is not a next request: end the connection after this answer.
    if (!whole) res.setHeader('connection', 'close');
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        if (res.destroyed) return;
        res.write(chunk);
      }
    }
    res.end();
  } catch {
    // `handle` never throws; this guards the conversion itself.
    if (res.destroyed) return;
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('connection', 'close');
    }
    res.end();
  }
}

/** Methods a Fetch `Request` cannot carry; the app still answers them (405), through its own path. */
const FETCH_FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

function toRequest(req: IncomingMessage, body: NodeBody, asMethod?: string): Request {
  // The raw target is appended to a fixed origin: a Host header or a `//x` path cannot change it.
  // (The app judges the raw target itself; this URL only has to parse.)
  const target = absoluteFormPath(req.url ?? '/');
  const url = new URL(`http://localhost${target.startsWith('/') ? target : `/${target}`}`);
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(key, v);
    else if (value !== undefined) headers.set(key, value);
  }
  const method = asMethod ?? req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(url, {
    method,
    headers,
    ...(hasBody ? { body: body.stream, duplex: 'half' } : {}),
  } as RequestInit);
}

/** `GET http://host/path` parses to its path; the app refuses the form itself (not canonical). */
function absoluteFormPath(target: string): string {
  if (!/^https?:\/\//i.test(target)) return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
