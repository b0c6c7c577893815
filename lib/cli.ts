#!/usr/bin/env node
/**
 * The `sspi` command.
 *
 *   sspi serve [--host 127.0.0.1] [--port 8080] [--schemes Negotiate,NTLM] [--persist]
 *              [--max-pending N] [--max-pending-per-address N] [--handshake-timeout MS]
 *              [--max-token-bytes BYTES] [--allow-anonymous]
 *       An HTTP server that authenticates every request with integrated Windows authentication
 *       (RFC 4559 Negotiate, NTLM) and answers with the identity as JSON. The limits are
 *       IntegratedAuthOptions' (lib/http/server.ts), with the same defaults.
 *   sspi packages [--json]
 *       The security packages secur32 offers.
 */
import * as http from 'node:http';

import { Command, InvalidArgumentError, Option } from 'commander';

import {
  AuthEvent, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_PENDING_HANDSHAKES, DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  DEFAULT_MAX_TOKEN_BYTES, HttpAuthScheme, IntegratedAuthenticator,
} from './http/server';
import { native } from './native';
import { enumerateSecurityPackages } from './packages';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port number 0-65535');
  return n;
}

/** A commander parser for an integer from `min` to `max` (the unit goes in the option's description). */
function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
    return n;
  };
}

function schemes(value: string): HttpAuthScheme[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  const known: Record<string, HttpAuthScheme> = { negotiate: 'Negotiate', ntlm: 'NTLM' };
  const out = list.map((s) => known[s.toLowerCase()]);
  if (out.length === 0 || out.some((s) => !s)) throw new InvalidArgumentError('a comma-separated list of Negotiate, NTLM');
  return out;
}

function describeEvent(e: AuthEvent): string {
  const from = e.remoteAddress ? ` from ${e.remoteAddress}` : '';
  switch (e.type) {
    case 'challenge':
      return `401 challenge${from}`;
    case 'continue':
      return `401 ${e.scheme} handshake continues${from}`;
    case 'rejected':
      return e.reason === 'HTTP_1_1_REQUIRED' ? `HTTP/2 stream reset (HTTP_1_1_REQUIRED)${from}` : `401 rejected${from}: ${e.reason}`;
    case 'unavailable':
      return `503 ${e.scheme ?? ''} refused${from}: ${e.reason}`;
    case 'expired':
      return `${e.scheme ?? ''} handshake timed out${from}; its context was deleted`;
    case 'authenticated': {
      const id = e.identity!;
      const user = id.user ?? `(not reported by secur32: ${id.userNotReported?.code})`;
      return `authenticated${from}: scheme=${id.scheme} package=${id.package ?? '?'} user=${user}`;
    }
  }
}

export function secur32Name(): string {
  const wine = native().hostInfo().wine;
  return wine ? `Wine ${wine} secur32` : 'Microsoft secur32';
}

interface ServeOptions {
  host: string;
  port: number;
  schemes: HttpAuthScheme[];
  persist: boolean;
  maxPending: number;
  maxPendingPerAddress: number;
  handshakeTimeout: number;
  maxTokenBytes: number;
  allowAnonymous: boolean;
}

async function serve(opts: ServeOptions): Promise<void> {
  const auth = new IntegratedAuthenticator({
    schemes: opts.schemes,
    // --persist keeps Kerberos connections authenticated too; without it the defaults hold (NTLM
    // connections persisted, Kerberos authenticated per request: persistNtlm / persistKerberos).
    ...(opts.persist ? { persistOnConnection: true } : {}),
    maxPendingHandshakes: opts.maxPending,
    maxPendingHandshakesPerAddress: opts.maxPendingPerAddress,
    handshakeTimeout: opts.handshakeTimeout,
    maxTokenBytes: opts.maxTokenBytes,
    allowAnonymous: opts.allowAnonymous,
    onEvent: (e) => console.log(`sspi serve: ${describeEvent(e)}`),
  });
  const server = http.createServer((req, res) => {
    auth.authenticate(req, res).then((id) => {
      if (!id) return;
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(`${JSON.stringify({
        authenticated: true,
        scheme: id.scheme,
        package: id.package,
        user: id.user,
        userNotReported: id.userNotReported?.code ?? null,
        anonymous: id.anonymous,
      })}\n`);
    }, (err: unknown) => {
      console.error(`sspi serve: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.statusCode = 500;
      res.end('500 Internal Server Error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const address = server.address();
  const where = typeof address === 'object' && address ? `http://${opts.host}:${address.port}/` : String(address);
  console.log(`sspi serve: listening on ${where} (schemes: ${opts.schemes.join(', ')}; ${secur32Name()})`);
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    void auth.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function packages(opts: { json: boolean }): void {
  const list = enumerateSecurityPackages();
  if (opts.json) {
    console.log(JSON.stringify(list, null, 2));
    return;
  }
  for (const p of list) console.log(`${p.Name.padEnd(46)} cbMaxToken ${String(p.cbMaxToken).padStart(6)}  ${p.Comment}`);
}

export function main(argv: string[]): Promise<unknown> {
  const program = new Command('sspi').description('Windows SSPI from Node.js').showHelpAfterError();
  program.command('serve')
    .description('HTTP server with integrated Windows authentication (Negotiate / NTLM)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--port <port>', 'TCP port (0: any free port)').default(8080).argParser(port))
    .addOption(new Option('--schemes <list>', 'schemes to offer, in order').default(['Negotiate', 'NTLM'], 'Negotiate,NTLM').argParser(schemes))
    .option('--persist', 'keep every connection authenticated after one handshake, Kerberos too (default: NTLM connections are, Kerberos is per request)', false)
    .addOption(new Option('--max-pending <count>', 'most unfinished handshakes held at once, server-wide (then 503)')
      .default(DEFAULT_MAX_PENDING_HANDSHAKES).argParser(integer(1, 1_000_000)))
    .addOption(new Option('--max-pending-per-address <count>', 'most unfinished handshakes held at once per client address (then 503)')
      .default(DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS).argParser(integer(1, 1_000_000)))
    .addOption(new Option('--handshake-timeout <ms>', 'milliseconds a handshake has to complete before its context is deleted')
      .default(DEFAULT_HANDSHAKE_TIMEOUT_MS).argParser(integer(1, 2 ** 31 - 1)))
    .addOption(new Option('--max-token-bytes <bytes>', 'largest accepted token, in bytes after base64 decoding')
      .default(DEFAULT_MAX_TOKEN_BYTES).argParser(integer(1, 2 ** 30)))
    .option('--allow-anonymous', 'accept anonymous NTLM logons (ASC_RET_NULL_SESSION); refused by default', false)
    .action(serve);
  program.command('packages')
    .description('list the security packages (EnumerateSecurityPackages)')
    .option('--json', 'print JSON', false)
    .action(packages);
  return program.parseAsync(argv);
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    console.error(`sspi: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
