/**
 * HTTP requests per second, in interleaved rounds: one Node HTTP server with lib/http's
 * IntegratedAuthenticator (Negotiate, persistKerberos: true) on /auth and the same handler without
 * authentication on /open; the client is undici's Client (unauthenticated requests) or this library's
 * NegotiateAgent (Kerberos through Negotiate to the bed's SPN). Client and server run in the same
 * node.exe (one event loop does both sides' work) over 127.0.0.1; one request at a time.
 *
 * - keep-alive: one connection, reused; the authenticated one did its handshake in the warm-up, and
 *   the server keeps the connection's identity (persistKerberos), so each request is one round trip;
 *   NegotiateAgent to /open shows the client's own cost apart from authentication;
 * - new connection per request: the server answers `Connection: close`; for /auth every request is
 *   a new connection, a 401 challenge, then the request again with the Negotiate (Kerberos) token.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { Client } from 'undici';

import { NegotiateAgent } from '../lib/http/client';
import { IntegratedAuthenticator } from '../lib/http/server';
import { Contender, fmt, interleave, median, ratio, Rate, rate, reason, ROUNDS } from './common';

export async function httpTable(spn: string, seconds: number): Promise<string[]> {
  let handshakes = 0;
  const auth = new IntegratedAuthenticator({ schemes: ['Negotiate'], persistKerberos: true, onEvent: (e) => { if (e.type === 'authenticated') handshakes++; } });
  const server = http.createServer((req, res) => {
    const done = (): void => {
      if (req.url!.endsWith('/close')) res.setHeader('connection', 'close');
      res.end('ok');
    };
    if (req.url!.startsWith('/open')) return done();
    auth.authenticate(req, res).then((id) => { if (id) done(); }, (e: unknown) => { res.statusCode = 500; res.end(reason(e)); });
  });
  // Idle keep-alive connections stay open across rounds (the other contenders run in between).
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const plain = new Client(base, { pipelining: 1 });
  const plainFresh = new Client(base, { pipelining: 1 });
  const agent = new NegotiateAgent({ origins: [base], spn });
  const agentOpen = new NegotiateAgent({ origins: [base], spn });
  const agentFresh = new NegotiateAgent({ origins: [base], spn });
  const get = (d: { request: Client['request'] }, path: string) => async (): Promise<void> => {
    const res = await d.request({ origin: base, path, method: 'GET' });
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 100)}`);
  };
  const UNAUTH = 'unauthenticated, keep-alive (undici Client)';
  const AGENT_OPEN = 'unauthenticated, keep-alive (NegotiateAgent: no 401, no handshake)';
  const AUTH = 'authenticated keep-alive (NegotiateAgent; persistKerberos)';
  const UNAUTH_FRESH = 'unauthenticated, new connection per request (undici Client)';
  const FRESH = 'fresh handshake per request (NegotiateAgent: new connection, 401, Negotiate/Kerberos)';
  const counted = (fn: () => Promise<void>) => async (): Promise<Rate & { handshakes: number }> => {
    const before = handshakes;
    const r = await rate(seconds, fn);
    return { ...r, handshakes: handshakes - before };
  };
  const contenders: Contender<Rate & { handshakes: number }>[] = [
    { name: UNAUTH, run: counted(get(plain, '/open')), warm: get(plain, '/open') },
    { name: AGENT_OPEN, run: counted(get(agentOpen as unknown as Client, '/open')), warm: get(agentOpen as unknown as Client, '/open') },
    { name: AUTH, run: counted(get(agent as unknown as Client, '/auth')), warm: get(agent as unknown as Client, '/auth') },
    { name: UNAUTH_FRESH, run: counted(get(plainFresh, '/open/close')), warm: get(plainFresh, '/open/close') },
    { name: FRESH, run: counted(get(agentFresh as unknown as Client, '/auth/close')), warm: get(agentFresh as unknown as Client, '/auth/close') },
  ];
  try {
    const results = await interleave(contenders, ROUNDS);
    const med = (name: string): number | undefined => {
      const r = results.get(name)!;
      return !r.failed && r.figures.length ? median(r.figures.map((f) => f.perSecond)) : undefined;
    };
    const base0 = med(UNAUTH);
    const targets: Record<string, string> = { [AUTH]: '>= 0.85x unauthenticated keep-alive' };
    const lines = [
      '### HTTP requests per second (Negotiate/Kerberos)',
      '',
      `Median of ${ROUNDS} interleaved rounds of ${seconds} s; one request at a time. Client and server in the same node.exe ` +
        '(one event loop does both sides), over 127.0.0.1. Server: node:http + IntegratedAuthenticator (schemes Negotiate, persistKerberos) ' +
        'on /auth, the same handler unauthenticated on /open; `Connection: close` for the new-connection rows.',
      '',
      '| contender | requests/s | x unauthenticated keep-alive | Kerberos handshakes per round | target |',
      '|---|---:|---:|---:|---|',
    ];
    for (const c of contenders) {
      const r = results.get(c.name)!;
      if (r.failed) {
        lines.push(`| ${c.name} | failed: ${r.failed} |  |  | ${targets[c.name] ?? ''} |`);
        continue;
      }
      const v = med(c.name)!;
      lines.push(`| ${c.name} | ${fmt(v)} | ${ratio(v, base0)} | ${median(r.figures.map((f) => f.handshakes))} | ${targets[c.name] ?? ''} |`);
    }
    return lines;
  } finally {
    await Promise.allSettled([plain.close(), plainFresh.close(), agent.close(), agentOpen.close(), agentFresh.close()]);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await auth.close();
  }
}
