// A Node HTTP server around the app: converts each request to a Fetch `Request`, calls
// `handle`, and streams the `Response` back. Nothing else happens here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { handle, handleForbiddenMethod } from '../../http/app.js';
import type { Services } from '../../http/services.js';

/** A listening edge server. */
export interface EdgeServer {
  url: string;
  close(): Promise<void>;
}

/** Starts serving the app with `services` on host:port (0 = any free port). */
export async function startEdgeServer(
  services: Services,
  host: string,
  port: number,
): Promise<EdgeServer> {
  const server = createServer((req, res) => {
    void serve(req, res, services);
  });
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

async function serve(req: IncomingMessage, res: ServerResponse, services: Services): Promise<void> {
  try {
    const client = { ip: req.socket.remoteAddress ?? 'unknown' };
    const method = (req.method ?? 'GET').toUpperCase();
    const response = FETCH_FORBIDDEN_METHODS.has(method)
      ? await handleForbiddenMethod(method, toRequest(req, 'GET'), services, client)
      : await handle(toRequest(req), services, client);
    res.statusCode = response.status;
    response.headers.forEach((value, key) => res.setHeader(key, value));
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
        res.write(chunk);
    }
    res.end();
  } catch {
    // `handle` never throws; this guards the conversion itself (e.g. an aborted client).
    if (!res.headersSent) res.statusCode = 500;
    res.end();
  }
}

/** Methods a Fetch `Request` cannot carry; the app still answers them (405), through its own path. */
const FETCH_FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

function toRequest(req: IncomingMessage, asMethod?: string): Request {
  // The raw target is appended to a fixed origin: a Host header or a `//x` path cannot change it.
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
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

/** RFC 9112 §3.2.2: servers accept `GET http://host/path`; only its path and query matter here. */
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
