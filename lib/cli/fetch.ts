/**
 * `sspi fetch <url>`: a curl-like HTTP client that answers `401 WWW-Authenticate: Negotiate` / `NTLM`
 * with SSPI, through {@link NegotiateAgent} (lib/http/client.ts) and undici's fetch.
 *
 * The password of `--user` comes from the environment variable SSPI_PASSWORD or, when that is not set
 * and stdin is a terminal, from a prompt without echo; never from the command line (it would show in
 * the process list and shell history). It is passed to AcquireCredentialsHandle only, never printed.
 */
import * as fs from 'node:fs';

import { fetch as undiciFetch } from 'undici';

import { AuthIdentity, Credentials } from '../credentials';
import { RequirementError, SspiError } from '../errors';
import { NegotiateAgent, NegotiateAgentOptions, NegotiateClientError, NegotiateLeg } from '../http/client';
import { CliError, EXIT } from './common';

/** The environment variable `--user`'s password is read from. */
export const PASSWORD_ENV = 'SSPI_PASSWORD';

/** `--package` values. */
export type FetchPackage = 'Negotiate' | 'NTLM' | 'Kerberos';

export interface FetchOptions {
  method?: string;
  header: string[];
  data?: string;
  output?: string;
  include: boolean;
  spn?: string;
  user?: string;
  package?: FetchPackage;
  mutual: boolean;
  cacert?: string;
  json: boolean;
  fail: boolean;
  /** `-x, --proxy`: 'http://host:port' (or https:), or 'env' for HTTP_PROXY / HTTPS_PROXY / NO_PROXY. */
  proxy?: string;
  /** `--proxy-spn`: the proxy's SPN (default HTTP/<proxy host>). */
  proxySpn?: string;
}

/** NegotiateAgent's `proxy` option for `--proxy` / `--proxy-spn` (usage errors for what cannot work). */
export function proxyOption(proxy: string | undefined, proxySpn: string | undefined): NegotiateAgentOptions['proxy'] | undefined {
  if (proxy === undefined) {
    if (proxySpn !== undefined) throw new CliError(EXIT.USAGE, '--proxy-spn needs --proxy');
    return undefined;
  }
  if (proxy === 'env') {
    if (proxySpn !== undefined) throw new CliError(EXIT.USAGE, "--proxy-spn needs a proxy URL, not 'env' (each proxy's SPN is HTTP/<its host>)");
    return 'env';
  }
  let uri: URL;
  try {
    uri = new URL(proxy);
  } catch {
    throw new CliError(EXIT.USAGE, `--proxy takes a URL ('http://proxy.example.com:3128') or 'env'`);
  }
  if (uri.protocol !== 'http:' && uri.protocol !== 'https:') throw new CliError(EXIT.USAGE, `--proxy: only http: and https: proxies, not ${uri.protocol}`);
  if (uri.username || uri.password) {
    // Never echo it: the URL may hold a password.
    throw new CliError(EXIT.USAGE, '--proxy must not hold a user or password: the proxy is answered with the same Negotiate/NTLM identity as the server');
  }
  return { uri: uri.href, ...(proxySpn ? { spn: proxySpn } : {}) };
}

/** What the handshake did, as `--json` reports it. */
export interface AuthenticationReport {
  /** The HTTP scheme answered: 'Negotiate' or 'NTLM'. */
  scheme: string;
  /** The package that authenticated: Negotiate's choice ('Kerberos' / 'NTLM') where SSPI says, else the credentials' package. */
  package: string;
  /** InitializeSecurityContext calls (one per token sent, plus the one that verified the server's final token). */
  legs: number;
  /** The client's context completed (SEC_E_OK). */
  complete: boolean;
  /** The server's final token completed the context with ISC_RET_MUTUAL_AUTH: the server proved its identity. */
  mutualAuthVerified: boolean;
}

/** The user of `--user`: 'DOMAIN\\user' splits into domain and user; 'user@REALM' and 'user' stay whole. */
export function parseUser(value: string): { user: string; domain?: string } {
  if (value.includes(':')) {
    // curl's -u user:password: a colon is not allowed in Windows account names, so this is a password.
    throw new CliError(EXIT.USAGE, `--user takes DOMAIN\\user or user@REALM only: the password is never read from the command line (set ${PASSWORD_ENV} or answer the prompt)`);
  }
  const slash = value.indexOf('\\');
  if (slash > 0 && slash < value.length - 1) return { domain: value.slice(0, slash), user: value.slice(slash + 1) };
  if (value === '' || slash !== -1) throw new CliError(EXIT.USAGE, '--user must be DOMAIN\\user, user@REALM or user');
  return { user: value };
}

/** Reads a password from the terminal without echoing it. */
function promptPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let value = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError(EXIT.USAGE, 'interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function password(user: string): Promise<string> {
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined) return env;
  if (!process.stdin.isTTY) {
    throw new CliError(EXIT.USAGE, `--user needs a password: set ${PASSWORD_ENV} (stdin is not a terminal, so there is no prompt)`);
  }
  return promptPassword(`Password for ${user}: `);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function body(data: string | undefined): Promise<Buffer | undefined> {
  if (data === undefined) return undefined;
  if (data === '@-') return readStdin();
  if (data.startsWith('@')) {
    try {
      return await fs.promises.readFile(data.slice(1));
    } catch (e) {
      throw new CliError(EXIT.USAGE, `--data ${data}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return Buffer.from(data);
}

function headers(list: string[]): [string, string][] {
  return list.map((h) => {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$/.exec(h);
    if (!m || /[\r\n\0]/.test(m[2])) throw new CliError(EXIT.USAGE, `--header ${JSON.stringify(h.slice(0, 80))}: expected "Name: value"`);
    return [m[1], m[2]];
  });
}

/**
 * Records the server handshake's legs from NegotiateAgent's onLeg (the proxy's are not the report's):
 * the last handshake's leg count, package, completion and mutual authentication, as `--json` reports them.
 */
function legRecorder(): { onLeg: (leg: NegotiateLeg) => void; report: () => AuthenticationReport | null } {
  let last: NegotiateLeg | undefined;
  let legs = 0;
  return {
    onLeg: (leg) => {
      if (leg.peer !== 'server') return;
      if (leg.leg === 1) legs = 0;
      legs++;
      last = leg;
    },
    report: () => (last ? { scheme: last.scheme, package: last.package, legs, complete: last.complete, mutualAuthVerified: last.mutualAuth } : null),
  };
}

/** The exit code and message of a failed request, from its cause chain. */
export function classify(err: unknown): CliError {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (e instanceof CliError) return e;
    if (e instanceof SspiError) return new CliError(EXIT.AUTH, `authentication failed: ${e.function} returned ${e.code}${e.package ? ` (${e.package})` : ''}`);
    if (e instanceof RequirementError) return new CliError(EXIT.AUTH, `authentication failed: ${e.message}`);
    if (e instanceof NegotiateClientError) {
      if (e.code === 'ERR_SSPI_CONNECTION_CHANGED') return new CliError(EXIT.NETWORK, e.message);
      if (e.code === 'ERR_SSPI_BODY_TOO_LARGE') return new CliError(EXIT.USAGE, e.message);
      // Only --package Kerberos sets allowedPackages.
      if (e.code === 'ERR_SSPI_PACKAGE_NOT_ALLOWED') return new CliError(EXIT.AUTH, `authentication failed: --package Kerberos refuses NTLM: ${e.message}`);
      // The tunnel could not be made (refused, dropped, or a CONNECT status other than 200 or 407).
      if (e.code === 'ERR_SSPI_PROXY_CONNECT') return new CliError(EXIT.NETWORK, `network error: ${e.message}`);
      return new CliError(EXIT.AUTH, `authentication failed: ${e.message}`);
    }
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (/^(E[A-Z]+|UND_ERR_.*|ERR_TLS_.*|ERR_SSL_.*|CERT_.*|.*_CERT.*|.*SELF_SIGNED.*|UNABLE_TO_.*)$/.test(code))) {
      const host = (e as { hostname?: string; address?: string }).hostname ?? (e as { address?: string }).address;
      return new CliError(EXIT.NETWORK, `network error: ${code}${host ? ` (${host})` : ''}: ${(e as Error).message}`);
    }
    e = (e as { cause?: unknown }).cause;
  }
  const message = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
  return new CliError(EXIT.NETWORK, `request failed: ${message}`);
}

/** The body as `--json` shows it: UTF-8 text when it is valid UTF-8, else base64. */
function jsonBody(b: Buffer): { encoding: 'utf8' | 'base64'; data: string } {
  try {
    return { encoding: 'utf8', data: new TextDecoder('utf-8', { fatal: true }).decode(b) };
  } catch {
    return { encoding: 'base64', data: b.toString('base64') };
  }
}

function write(stream: NodeJS.WritableStream, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Runs `sspi fetch`; resolves to the exit code. */
export async function fetchCommand(url: string, opts: FetchOptions): Promise<number> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new CliError(EXIT.USAGE, `not a URL: ${JSON.stringify(url.slice(0, 200))}`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new CliError(EXIT.USAGE, `only http: and https: URLs, not ${target.protocol}`);
  const requestHeaders = headers(opts.header ?? []);
  const data = await body(opts.data);
  if (data && !requestHeaders.some(([k]) => k.toLowerCase() === 'content-type')) requestHeaders.push(['Content-Type', 'application/x-www-form-urlencoded']);
  const method = opts.method ?? (data ? 'POST' : 'GET');
  let ca: Buffer | undefined;
  if (opts.cacert) {
    try {
      ca = fs.readFileSync(opts.cacert);
    } catch (e) {
      throw new CliError(EXIT.USAGE, `--cacert ${opts.cacert}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  let identity: AuthIdentity | undefined;
  if (opts.user !== undefined) {
    const u = parseUser(opts.user);
    identity = { ...u, password: await password(opts.user) };
  }
  let credentials: Credentials | undefined;
  const proxy = proxyOption(opts.proxy, opts.proxySpn);
  const agentOptions: NegotiateAgentOptions = {
    origins: [target.origin],
    ...(proxy ? { proxy } : {}),
    ...(opts.spn ? { spn: opts.spn } : {}),
    ...(opts.mutual ? { mutualAuthentication: true } : {}),
    ...(ca ? { connect: { ca } } : {}),
  };
  const watch = legRecorder();
  agentOptions.onLeg = watch.onLeg;
  // Kerberos over HTTP is the Negotiate scheme with Kerberos chosen: NegotiateAgent refuses to send
  // any NTLM message (and a context completed with NTLM) under allowedPackages ['Kerberos'].
  if (opts.package === 'Kerberos') agentOptions.allowedPackages = ['Kerberos'];
  let agent: NegotiateAgent | undefined;
  try {
    if (opts.package) {
      // Kerberos over HTTP is the Negotiate scheme with Kerberos chosen: Negotiate credentials, and
      // allowedPackages (above) refuses any NTLM message before it is sent. (Not SEC_WINNT_AUTH_IDENTITY_EX's
      // PackageList: Wine 10's Negotiate fails with it, SEC_E_INVALID_TOKEN for the current user,
      // and with an explicit identity the process dies.)
      credentials = await Credentials.acquire({ package: opts.package === 'NTLM' ? 'NTLM' : 'Negotiate', ...(identity ? { identity } : {}) });
      agentOptions.credentials = credentials;
    } else if (identity) {
      agentOptions.identity = identity;
    }
    agent = new NegotiateAgent(agentOptions);
    let res: Awaited<ReturnType<typeof undiciFetch>>;
    let bytes: Buffer;
    try {
      res = await undiciFetch(target, { method, headers: requestHeaders, ...(data ? { body: data } : {}), dispatcher: agent, redirect: 'manual' });
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw classify(e);
    }
    const auth = watch.report();
    const head = `HTTP/1.1 ${res.status} ${res.statusText}\r\n${[...res.headers].map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    if (opts.output) {
      try {
        await fs.promises.writeFile(opts.output, opts.include && !opts.json ? Buffer.concat([Buffer.from(head, 'latin1'), bytes]) : bytes);
      } catch (e) {
        throw new CliError(EXIT.USAGE, `--output ${opts.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (opts.json) {
      const headersObject: Record<string, string> = {};
      for (const [k, v] of res.headers) headersObject[k] = v;
      await write(process.stdout, `${JSON.stringify({
        url: target.href,
        status: res.status,
        statusText: res.statusText,
        headers: headersObject,
        authentication: auth,
        ...(opts.output ? { output: opts.output, bodyBytes: bytes.length } : { body: jsonBody(bytes) }),
      })}\n`);
    } else if (!opts.output) {
      if (opts.include) await write(process.stdout, Buffer.from(head, 'latin1'));
      await write(process.stdout, bytes);
    }
    if (res.status === 401 || res.status === 407) {
      process.stderr.write(`sspi fetch: authentication failed: the ${res.status === 407 ? 'proxy' : 'server'} answered ${res.status}${auth ? ` after ${auth.legs} ${auth.scheme} leg(s)` : ' (no Negotiate or NTLM challenge answered)'}\n`);
      return EXIT.AUTH;
    }
    if (opts.fail && res.status >= 400) {
      process.stderr.write(`sspi fetch: the server answered ${res.status}\n`);
      return EXIT.HTTP_ERROR;
    }
    return EXIT.OK;
  } finally {
    await agent?.close().catch(() => undefined);
    credentials?.dispose();
    if (identity) identity.password = '';
  }
}
