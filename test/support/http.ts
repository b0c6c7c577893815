/**
 * A Node HTTP server on 127.0.0.1 that authenticates its requests with an IntegratedAuthenticator, a
 * GET that sends one Authorization header over a given agent, and a forward proxy's forwarding of an
 * absolute-form request: what the HTTP suites (test/unit, test/hostile/wine, test/windows) share.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IntegratedAuthenticator } from '../../lib/http/server';

export interface AuthServer {
  server: http.Server;
  port: number;
  /** Closes the server and every connection, then the authenticator (its contexts). */
  close(): Promise<void>;
}

/** A reply as a client sees it: status, every `WWW-Authenticate` value in order, body text. */
export interface Reply {
  status: number;
  wwwAuthenticate: string[];
  body: string;
}

/**
 * Listens on 127.0.0.1 (a free port) with `handler` for each request; a handler that rejects answers
 * 500 with the error's text, so a test sees a programming error as a status rather than a hang.
 */
export async function listenAuth(auth: IntegratedAuthenticator,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void): Promise<AuthServer> {
  const server = http.createServer((req, res) => {
    Promise.resolve().then(() => handler(req, res)).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await auth.close();
    },
  };
}

/** One GET of `/` on 127.0.0.1:`port` over `agent`, with `Authorization: <authorization>` if given. */
export function getReply(port: number, agent: http.Agent, authorization?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = authorization ? { Authorization: authorization } : {};
    http.get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        const wwwAuthenticate = res.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1].toLowerCase() === 'www-authenticate');
        resolve({ status: res.statusCode ?? 0, wwwAuthenticate, body });
      });
    }).on('error', reject);
  });
}

/**
 * A test forward proxy's plain-HTTP path: sends the absolute-form request `req` (`GET http://host:port/path`)
 * to its origin without the proxy's own hop-by-hop credentials (Proxy-Authorization, Proxy-Connection),
 * and answers `res` with the origin's response. `host`: where to connect instead of the URL's host (a
 * name node.exe cannot resolve, such as the test bed's service host); `headers`: added to the response
 * (a proxy's final Proxy-Authenticate token); `agent`: the upstream agent (false: a connection per request).
 * An upstream failure is a 502, or a reset once the response has begun.
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse,
  options: { host?: string; headers?: http.OutgoingHttpHeaders; agent?: http.Agent | false } = {}): void {
  const target = new URL(req.url!);
  const headers = { ...req.headers };
  delete headers['proxy-authorization'];
  delete headers['proxy-connection'];
  const upstream = http.request({
    host: options.host ?? target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers,
    ...(options.agent !== undefined ? { agent: options.agent } : {}),
  }, (answer) => {
    res.writeHead(answer.statusCode!, { ...answer.headers, ...options.headers });
    answer.pipe(res);
  });
  upstream.on('error', (e) => {
    if (res.headersSent) res.destroy();
    else res.writeHead(502).end(e.message);
  });
  req.pipe(upstream);
}
