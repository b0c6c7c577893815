/**
 * An HTTPS (or HTTP) server on 127.0.0.1 authenticating with an IntegratedAuthenticator that records
 * what each AcceptSecurityContext context was created with (fContextReq, channel bindings), and a
 * GET through NegotiateAgent: what test/unit/http-policy-bindings.test.ts (under Wine) and
 * test/windows/http-policy.test.ts (Microsoft's secur32) share for Extended Protection; and a
 * handshake over raw Authorization headers (loginOver) for test/unit/http-policy-*.test.ts.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

import { fetch as undiciFetch } from 'undici';

import { ClientContext, ServerContext, ServerContextOptions } from '../../lib/context';
import { runHandshake } from '../../lib/handshake';
import { NegotiateAgent, NegotiateAgentOptions } from '../../lib/http/client';
import { AuthEvent, IntegratedAuthenticator, IntegratedAuthOptions } from '../../lib/http/server';
import { makeCertificate } from './certificates';
import { getReply, Reply } from './http';

/** What the server's createContext was given, per handshake. */
export interface Made {
  contextReq: number;
  channelBindings: Buffer | undefined;
}

export interface PolicyServer {
  url: string;
  /** The server certificate (DER). */
  der: Buffer;
  /** The CA option a client needs to trust it (PEM). */
  ca: string;
  made: Made[];
  events: AuthEvent[];
  auth: IntegratedAuthenticator;
  close(): Promise<void>;
}

/** Listens with `options` over TLS (a fresh self-signed 'localhost' certificate) or plain HTTP. */
export async function listenPolicy(options: IntegratedAuthOptions, tls = true): Promise<PolicyServer> {
  const made: Made[] = [];
  const events: AuthEvent[] = [];
  const auth = new IntegratedAuthenticator({
    ...options,
    onEvent: (e) => events.push(e),
    createContext: (credentials, o: ServerContextOptions) => {
      made.push({ contextReq: o.contextReq ?? 0, channelBindings: o.channelBindings ? Buffer.from(o.channelBindings) : undefined });
      return new ServerContext(credentials, o);
    },
  });
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    auth.authenticate(req, res).then((id) => {
      if (id) res.end(JSON.stringify({ package: id.package }));
    }, (e: Error) => res.writeHead(500).end(e.message));
  };
  const cert = makeCertificate('rsa-sha256', 'localhost');
  const server = tls
    ? https.createServer({ cert: cert.pem, key: cert.key.export({ type: 'pkcs8', format: 'pem' }) as string }, handler)
    : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    der: cert.der,
    ca: cert.pem,
    made,
    events,
    auth,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await auth.close();
    },
  };
}

/** One GET of `/` through a NegotiateAgent made with `options` (its `origins` and TLS trust filled in); the status. */
export async function getThrough(server: PolicyServer, options: Omit<NegotiateAgentOptions, 'origins' | 'connect'>): Promise<number> {
  const agent = new NegotiateAgent({ ...options, origins: [server.url], connect: { ca: server.ca, servername: 'localhost' } });
  try {
    const res = await undiciFetch(`${server.url}/`, { dispatcher: agent });
    await res.text();
    return res.status;
  } finally {
    await agent.close();
  }
}

/**
 * Runs `client`'s handshake with the server on 127.0.0.1:`port` over `via` (one keep-alive
 * connection), one `Authorization: <scheme> <token>` GET per leg; the final reply. A refused
 * handshake ends the client's loop: the reply says how (401, 403, 500).
 */
export async function loginOver(port: number, scheme: 'Negotiate' | 'NTLM', client: ClientContext, via: http.Agent): Promise<Reply> {
  let final: Reply | undefined;
  await runHandshake(client, async (t) => {
    if (!t) return undefined;
    final = await getReply(port, via, `${scheme} ${t.toString('base64')}`);
    const header = final.wwwAuthenticate.find((h) => h.startsWith(`${scheme} `));
    return header ? Buffer.from(header.slice(scheme.length + 1), 'base64') : undefined;
  }).catch(() => undefined);
  return final!;
}
