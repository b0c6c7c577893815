#!/usr/bin/env node
/**
 * The `sspi` command. Exit codes (lib/cli/common.ts EXIT): 0 ok, 1 usage (also: a command that needs
 * Windows run elsewhere, a token that does not decode), 2 authentication failed, 3 network,
 * 22 `fetch --fail` with an HTTP error status.
 *
 *   sspi serve [--host 127.0.0.1] [--port 8080] [--schemes Negotiate,NTLM] [--persist]
 *              [--max-pending N] [--max-pending-per-address N] [--handshake-timeout MS]
 *              [--max-token-bytes BYTES] [--allow-anonymous]
 *       An HTTP server that authenticates every request with integrated Windows authentication
 *       (RFC 4559 Negotiate, NTLM) and answers with the identity as JSON. The limits are
 *       IntegratedAuthOptions' (lib/http/server.ts), with the same defaults.
 *   sspi fetch <url> [-X method] [-H "Name: value"]... [-d data|@file|@-] [-o file] [-i] [--spn SPN] [-x PROXY]
 *              [-u DOMAIN\\user] [--package Negotiate|NTLM|Kerberos] [--mutual] [--cacert file] [-f] [--json]
 *       An HTTP request answering Negotiate/NTLM challenges (lib/cli/fetch.ts); the password of
 *       --user from SSPI_PASSWORD or a prompt, never from the command line.
 *   sspi whoami [--json]
 *       The current user as each package's credentials report it (lib/cli/whoami.ts).
 *   sspi packages [--json]
 *       The security packages secur32 offers.
 *   sspi token <base64 | "Negotiate <base64>" | -> [--json]
 *       Decodes an NTLM, SPNEGO, Kerberos or GSS-API token (lib/cli/token.ts); any OS.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import {
  AuthEvent, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_PENDING_HANDSHAKES, DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  DEFAULT_MAX_TOKEN_BYTES, HttpAuthScheme, IntegratedAuthenticator,
} from './http/server';
import { CliError, EXIT, NEEDS_SSPI, requireWindows } from './cli/common';
import { fetchCommand, FetchOptions, FetchPackage, PASSWORD_ENV } from './cli/fetch';
import { decodeToken, formatToken, MAX_TOKEN_TEXT, TokenDecodeError, tokenBytes } from './cli/token';
import { whoamiCommand } from './cli/whoami';
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
      // requireGroup's refusals carry their status (403, or 500 where the token's groups cannot be read).
      return e.reason === 'HTTP_1_1_REQUIRED' ? `HTTP/2 stream reset (HTTP_1_1_REQUIRED)${from}` : `${e.status ?? 401} rejected${from}: ${e.reason}`;
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
  const secur32 = secur32Name();
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
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, resolve);
    });
  } catch (e) {
    await auth.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? EXIT.NETWORK : EXIT.USAGE,
      `cannot listen on ${opts.host}:${opts.port}: ${code ?? (e as Error).message}`);
  }
  const address = server.address();
  const where = typeof address === 'object' && address ? `http://${opts.host}:${address.port}/` : String(address);
  console.log(`sspi serve: listening on ${where} (schemes: ${opts.schemes.join(', ')}; ${secur32})`);
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

async function readAll(stream: NodeJS.ReadableStream, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : c as Buffer;
    size += b.length;
    if (size > max) throw new TokenDecodeError(`the token text is over ${max} characters`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('latin1');
}

async function token(words: string[], opts: { json: boolean }): Promise<number> {
  const text = words.length === 1 && words[0] === '-' ? await readAll(process.stdin, MAX_TOKEN_TEXT) : words.join(' ');
  try {
    const decoded = decodeToken(tokenBytes(text));
    process.stdout.write(opts.json ? `${JSON.stringify(decoded)}\n` : `${formatToken(decoded)}\n`);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof TokenDecodeError) throw new CliError(EXIT.USAGE, e.message);
    throw e;
  }
}

function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function collect(value: string, previous: string[]): string[] {
  return previous.concat([value]);
}

function fetchPackage(value: string): FetchPackage {
  const known: Record<string, FetchPackage> = { negotiate: 'Negotiate', ntlm: 'NTLM', kerberos: 'Kerberos' };
  const p = known[value.toLowerCase()];
  if (!p) throw new InvalidArgumentError('one of Negotiate, NTLM, Kerberos');
  return p;
}

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 1 usage (bad arguments; a command needing Windows run elsewhere; a token that does
not decode), 2 authentication failed, 3 network error, 22 fetch --fail with an HTTP error status.`;

/**
 * Runs the `sspi` command line `argv` (process.argv's shape: node, script, arguments...).
 * @returns the exit code the command chose (usage errors of commander exit the process with 1 themselves).
 */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.OK;
  let command = '';
  const program = new Command('sspi')
    .description('Windows SSPI from Node.js: integrated Windows authentication for HTTP, and token decoding')
    .version(version(), '-V, --version', 'print the version of the sspi package')
    .showHelpAfterError()
    .addHelpText('after', EXIT_CODES_HELP);
  program.hook('preAction', (_program, action) => {
    command = action.name();
    if (NEEDS_SSPI.has(command)) requireWindows(command);
  });
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
    .addHelpText('after', EXIT_CODES_HELP)
    .action(serve);
  program.command('fetch')
    .description('an HTTP request that answers Negotiate / NTLM challenges as the current user or --user (curl-like)')
    .argument('<url>', 'http: or https: URL')
    .option('-X, --method <method>', 'request method (default GET, or POST with --data)')
    .option('-H, --header <header>', 'request header "Name: value" (repeatable)', collect, [])
    .option('-d, --data <data>', 'request body: the text, @file for a file\'s bytes, @- for stdin (sent as is)')
    .option('-o, --output <file>', 'write the body (with -i, the headers too) to <file> instead of stdout')
    .option('-i, --include', 'print the status line and response headers before the body', false)
    .option('--spn <spn>', 'service principal name (default HTTP/<host of the URL>)')
    .option('-u, --user <user>', `authenticate as DOMAIN\\user or user@REALM; the password from $${PASSWORD_ENV}, else a prompt (terminal only); never from the command line`)
    .addOption(new Option('--package <package>', 'security package: Negotiate (scheme Negotiate), Kerberos (Negotiate without NTLM fallback), NTLM (scheme NTLM); default: whichever the server offers, Negotiate first').argParser(fetchPackage))
    .option('--mutual', 'require the server to prove its identity (Kerberos mutual authentication); exit 2 if it does not', false)
    .option('--cacert <file>', 'PEM file of the CA certificates to trust for https:')
    .option('-x, --proxy <url>', "forward proxy, 'http://host:port', or 'env' for HTTP_PROXY / HTTPS_PROXY / NO_PROXY; its 407 Negotiate (NTLM on plain HTTP) is answered as the same user")
    .option('--proxy-spn <spn>', "the proxy's service principal name (default HTTP/<host of the proxy URL>)")
    .option('-f, --fail', 'exit 22 when the HTTP status is 400 or more (401/407 always exit 2)', false)
    .option('--json', 'print one JSON object: url, status, statusText, headers, authentication (scheme, package, legs, complete, mutualAuthVerified) and body ({ encoding: utf8|base64, data })', false)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (url: string, opts: FetchOptions) => { code = await fetchCommand(url, opts); });
  program.command('whoami')
    .description('the current user as SSPI sees it: SECPKG_CRED_ATTR_NAMES of the outbound Negotiate, Kerberos and NTLM credentials')
    .option('--json', 'print JSON: { user, packages: [{ package, user, error? }] }', false)
    .addHelpText('after', `${EXIT_CODES_HELP} (whoami: 2 when no package reports a user)`)
    .action(async (opts: { json: boolean }) => { code = await whoamiCommand(opts); });
  program.command('packages')
    .description('list the security packages (EnumerateSecurityPackages)')
    .option('--json', 'print JSON', false)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(packages);
  program.command('token')
    .description('decode an NTLM, SPNEGO, Kerberos (AP-REQ/AP-REP/KRB-ERROR outer structure) or GSS-API token; works on any OS')
    .argument('<token...>', 'the base64 token, or a header value ("Negotiate <base64>", "NTLM <base64>"), or - to read it from stdin')
    .option('--json', 'print the decoded structure as JSON', false)
    .addHelpText('after', `${EXIT_CODES_HELP} (token: 1 when the input does not decode)`)
    .action(async (words: string[], opts: { json: boolean }) => { code = await token(words, opts); });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`sspi${command ? ` ${command}` : ''}: ${e.message}\n`);
      return e.exitCode;
    }
    // Not expected: still one line, no stack trace (NODE_DEBUG=sspi-cli shows it).
    process.stderr.write(`sspi${command ? ` ${command}` : ''}: ${e instanceof Error ? e.message : String(e)}\n`);
    if (/\bsspi-cli\b/.test(process.env.NODE_DEBUG ?? '')) process.stderr.write(`${(e as Error)?.stack}\n`);
    return EXIT.USAGE;
  }
  return code;
}

if (require.main === module) {
  main(process.argv).then((code) => { process.exitCode = code; }, () => { process.exitCode = EXIT.USAGE; });
}
