/**
 * A Node HTTP server on 127.0.0.1 that authenticates its requests with an IntegratedAuthenticator, and
 * a GET that sends one Authorization header over a given agent: what the HTTP suites (test/unit,
 * test/hostile/wine, test/windows) share.
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
