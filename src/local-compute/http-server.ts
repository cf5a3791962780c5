// The downstream side: a Node HTTP server that hands each request to the Compute host, streams its
// body to the guest as the guest reads it, and streams the guest's response back.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newRequestId, type ComputeHost } from './host.js';
import type { DownstreamRequest, HeaderList } from './protocol.js';

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
  const headers: HeaderList = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.push([(req.rawHeaders[i] ?? '').toLowerCase(), req.rawHeaders[i + 1] ?? '']);
  }
  const request: DownstreamRequest = {
    method: req.method ?? 'GET',
    uri: downstreamUri(req),
    headers,
    body: new Uint8Array(),
    clientIp: req.socket.remoteAddress ?? '127.0.0.1',
    serverIp: req.socket.localAddress ?? '127.0.0.1',
    requestId: newRequestId(),
  };
  // The body streams to the guest as it reads it, as on Compute; GET and HEAD have none.
  const hasBody = !['GET', 'HEAD'].includes(request.method.toUpperCase());
  await compute.serve(
    request,
    {
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
    },
    hasBody ? (req as AsyncIterable<Uint8Array>) : undefined,
  );
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

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
