// The downstream side: a Node HTTP server that hands each request, buffered, to the Compute host
// and streams the guest's response back as it produces it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newRequestId, type ComputeHost } from './host.js';
import type { DownstreamRequest, HeaderList } from './protocol.js';

/** Largest downstream body the host buffers for the guest; bigger ones get a 413 here. */
export const MAX_DOWNSTREAM_BODY = 8 * 1024 * 1024;

export interface ComputeServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (0 = a free port) and serves every request through `compute`. */
export async function startComputeServer(
  compute: ComputeHost,
  host: string,
  port: number,
): Promise<ComputeServer> {
  const server = createServer((req, res) => {
    void serve(compute, req, res);
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

async function serve(compute: ComputeHost, req: IncomingMessage, res: ServerResponse) {
  let body: Uint8Array;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_DOWNSTREAM_BODY) {
    // More than the host buffers: the guest gets the headers and no body (the app refuses by
    // Content-Length before reading), and the connection closes after the answer.
    body = new Uint8Array();
    res.shouldKeepAlive = false;
  } else {
    try {
      body = await readBody(req);
    } catch (err) {
      res.statusCode = err instanceof TooLarge ? 413 : 400;
      res.end();
      return;
    }
  }
  const headers: HeaderList = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.push([(req.rawHeaders[i] ?? '').toLowerCase(), req.rawHeaders[i + 1] ?? '']);
  }
  const request: DownstreamRequest = {
    method: req.method ?? 'GET',
    uri: downstreamUri(req),
    headers,
    body,
    clientIp: req.socket.remoteAddress ?? '127.0.0.1',
    serverIp: req.socket.localAddress ?? '127.0.0.1',
    requestId: newRequestId(),
  };
  await compute.serve(request, {
    head(status, list) {
      res.statusCode = status;
      for (const [name, value] of list) {
        try {
          res.appendHeader(name, value);
        } catch {
          // A header Node refuses (invalid characters) is dropped rather than failing the response.
        }
      }
    },
    chunk(bytes) {
      res.write(bytes);
    },
    end() {
      res.end();
    },
    fail(status) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = status;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(status === 500 ? 'Internal Server Error\n' : 'Service Unavailable\n');
    },
  });
}

/**
 * The URL Compute gives the guest: absolute, built from the Host header (Viceroy does the same);
 * an absolute-form target keeps only its path and query.
 */
function downstreamUri(req: IncomingMessage): string {
  let target = req.url ?? '/';
  if (/^https?:\/\//i.test(target)) {
    try {
      const url = new URL(target);
      target = `${url.pathname}${url.search}`;
    } catch {
      // Not a URL after all: keep it as a path.
    }
  }
  const host =
    req.headers.host && /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host)
      ? req.headers.host
      : 'localhost';
  return `http://${host}${target.startsWith('/') ? target : `/${target}`}`;
}

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_DOWNSTREAM_BODY) throw new TooLarge();
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
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
