/**
 * Integrated Windows authentication for HTTP clients: the client side of RFC 4559
 * (`WWW-Authenticate: Negotiate`) and of Microsoft's NTLM HTTP scheme, over SSPI's
 * InitializeSecurityContext, as an undici Dispatcher usable with `fetch(url, { dispatcher })`
 * (Node's global fetch or undici's) and as {@link sspiFetch}.
 *
 * Connections: each handshake runs on one undici `Client` (one TCP/TLS connection, no pipelining),
 * leased for the whole request, so NTLM's NEGOTIATE/CHALLENGE/AUTHENTICATE legs travel over the same
 * socket; if the connection changes in the middle of a handshake the request fails. Connections
 * belong to one {@link NegotiateAgent}, which holds one identity: an authenticated connection is
 * never used for another user.
 *
 * Request bodies: the 401 handshake replays the request, so the body is read into memory first (up
 * to {@link NegotiateAgentOptions.maxBodyBytes}). A stream body larger than that is streamed once,
 * and only where the handshake cannot need to replay it (see maxBodyBytes); elsewhere it fails with
 * a clear error before anything is sent. (A body-less probe would send a different request, with
 * another method's semantics, to the server; buffering keeps the request the user wrote.)
 */
import * as dns from 'node:dns';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';

import { Client, Dispatcher, buildConnector, fetch as undiciFetch } from 'undici';

import { tlsServerEndPointBindings } from '../bindings';
import { ISC_RET } from '../constants';
import { ClientContext, StepResult } from '../context';
import { AuthIdentity, Credentials } from '../credentials';
import { RequirementError, SspiError } from '../errors';
import { NTLMSSP_SIGNATURE } from './framing';
import { toLegacyHandler } from './handler';


/** HTTP authentication schemes answered: RFC 4559's Negotiate and Microsoft's NTLM. */
export type ClientAuthScheme = 'Negotiate' | 'NTLM';

/** Default {@link NegotiateAgentOptions.maxLegs}: 401 answers followed in one request. */
export const DEFAULT_MAX_LEGS = 8;
/** Default {@link NegotiateAgentOptions.maxBodyBytes}: 16 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Origins (and proxies) a NegotiateAgent remembers as challenging, for streamed bodies; the oldest is forgotten first. */
const MAX_REMEMBERED = 256;
/** How long a failed streamed request waits for a read of the caller's body already under way to end (ms). */
const SETTLE_MS = 1000;

/** Options of {@link NegotiateAgent}. */
export interface NegotiateAgentOptions {
  /**
   * The origins ('https://intranet.example.com', scheme://host[:port]) this agent authenticates to,
   * or a predicate on the request's URL origin. Required: a token is never sent to any other origin
   * (a redirect elsewhere is followed without authentication; a 401 from there is handed back as is).
   */
  origins: string[] | ((origin: string) => boolean);
  /**
   * Outbound credentials to authenticate with (the caller keeps and disposes them); their package
   * decides the scheme answered ('Negotiate' or 'NTLM'; other packages are a TypeError). Default: the current user's (the logon
   * session, or the Kerberos ticket cache), acquired per package on first use and disposed by
   * {@link NegotiateAgent.close}.
   */
  credentials?: Credentials;
  /** An explicit user, domain and password (acquired with {@link Credentials.acquire}); not with `credentials`. */
  identity?: AuthIdentity;
  /** Schemes answered, in order of preference. Default ['Negotiate', 'NTLM']. */
  schemes?: ClientAuthScheme[];
  /** The service principal name for every request; default `HTTP/<host of the URL>`. */
  spn?: string;
  /**
   * Derive the SPN from the host's canonical name: follow DNS CNAME records (dns.resolveCname) from
   * the URL's host, as browsers and MIT Kerberos do. Default false (the host as written: what
   * Microsoft's WinHTTP does by default, and safe against DNS spoofing of the target name).
   */
  canonicalizeHostname?: boolean;
  /**
   * Fail unless the server proves its identity: the final `WWW-Authenticate: Negotiate <token>` must
   * come and complete the context with ISC_RET_MUTUAL_AUTH (Kerberos). Default false (NTLM cannot
   * do it); a final token the server does send is always verified, and a wrong one always fails.
   */
  mutualAuthentication?: boolean;
  /**
   * Channel bindings over HTTPS: 'tls-server-end-point' (default) passes the hash of the server's
   * certificate on the connection (RFC 5929; lib/bindings.ts) to every InitializeSecurityContext of
   * the handshake; false sends none.
   */
  channelBindings?: 'tls-server-end-point' | false;
  /** Most 401 answers followed for one request (a server answering 401 forever). Default 8. */
  maxLegs?: number;
  /**
   * Largest request body buffered for the handshake's replay, in bytes (a positive integer). Default
   * 16 MiB. A string or Uint8Array body is in memory already and is replayed whatever its size. An
   * (async) iterable body is read until it ends or passes this size; past it, the agent holds no
   * more than the bytes read so far and streams the body ONCE (those bytes, then the rest of the
   * iterable as it is read), only on a request the handshake cannot need to replay:
   * - on a connection this agent authenticated and the server keeps authenticated (NTLM, or seen
   *   letting a request without `Authorization` through): sent directly, without `Authorization`;
   * - to an origin this agent has seen answer 401 with a scheme it answers (the last 256 origins
   *   remembered): the handshake starts without waiting for a 401. NTLM, only where this path of
   *   the origin was seen answering 401 itself: the NEGOTIATE leg is the request with
   *   `Content-Length: 0` (no server can accept an NTLM NEGOTIATE_MESSAGE, and the path
   *   authenticates, so the application never sees it), the body goes with the AUTHENTICATE leg;
   *   elsewhere on the origin a path that lets requests through unauthenticated would see an empty
   *   request, so there it is 'ERR_SSPI_BODY_TOO_LARGE'. Negotiate (Kerberos):
   *   the first token goes with the body (pre-emptive, as .NET's PreAuthenticate), its final token
   *   verified as always; if the server still answers 401 with a further token, the request fails
   *   with 'ERR_SSPI_BODY_NOT_REPLAYABLE' (so does a proxy's 407 after the body went out);
   * - to an origin this agent does not authenticate to: sent directly.
   * Anywhere else (an origin not yet seen challenging, a proxy seen answering 407, HTTPS Negotiate
   * whose channel bindings need a connection not yet made) it fails with 'ERR_SSPI_BODY_TOO_LARGE'
   * before anything is sent: one small request to the same URL first makes it known. A 401 without a
   * further token after a streamed body is the response; the connection closing or the caller
   * aborting mid-stream fails the request (undici's error), and the agent reads the iterable no
   * further (undici 6's fetch itself reads the rest of an aborted fetch's body iterable).
   */
  maxBodyBytes?: number;
  /** TLS and socket options for connections (undici buildConnector: ca, servername, rejectUnauthorized, ...). */
  connect?: buildConnector.BuildOptions;
  /**
   * A forward proxy every request goes through, answering its `407 Proxy-Authenticate: Negotiate`
   * (or `NTLM`) with this agent's identity: a URL ('http://proxy.corp:3128', as undici's ProxyAgent
   * takes it), a {@link NegotiateProxyOptions}, or 'env' for the proxy of the environment variables
   * `https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY` and `no_proxy`/`NO_PROXY` (read per
   * request, as undici's EnvHttpProxyAgent reads them). Default: none (connect directly; the
   * environment is not read). Proxy tokens go only to the proxy, never to an origin.
   */
  proxy?: string | URL | NegotiateProxyOptions | 'env';
  /**
   * The SSPI packages a handshake may use, for the server and the proxy alike: a non-empty array of
   * 'Kerberos' and/or 'NTLM'. Without 'NTLM', the NTLM scheme is not answered and Negotiate's
   * fallback to NTLM is refused before any NTLM message leaves the process (a token starting with
   * NTLMSSP, [MS-NLMP] 2.2.1, fails the request); a handshake that completes with a package not in the
   * list (SECPKG_ATTR_NEGOTIATION_INFO) fails too. Both fail with 'ERR_SSPI_PACKAGE_NOT_ALLOWED'.
   * Default: both.
   */
  allowedPackages?: ('Kerberos' | 'NTLM')[];
  /**
   * Called after each InitializeSecurityContext of a handshake (the token it made is about to be
   * sent, or the peer's final token was verified) with what support cases need: never a token or a
   * password. Called synchronously; what it throws fails the request.
   */
  onLeg?: (leg: NegotiateLeg) => void;
}

/** One InitializeSecurityContext of a NegotiateAgent handshake, as {@link NegotiateAgentOptions.onLeg} reports it. */
export interface NegotiateLeg {
  /** Who the handshake is with: the origin server (401) or the proxy (407). */
  peer: 'server' | 'proxy';
  /** The HTTP scheme answered. */
  scheme: ClientAuthScheme;
  /**
   * The package: Negotiate's choice ('Kerberos', 'NTLM') once SSPI reports it
   * (SECPKG_ATTR_NEGOTIATION_INFO), else the credentials' package ('Negotiate', 'NTLM').
   */
  package: string;
  /** This call's number in the handshake, from 1. */
  leg: number;
  /** The call's status name: 'SEC_I_CONTINUE_NEEDED', 'SEC_E_OK'. */
  status: string;
  /** The context is complete (SEC_E_OK). */
  complete: boolean;
  /** Complete with ISC_RET_MUTUAL_AUTH after the peer's token: the peer proved its identity. */
  mutualAuth: boolean;
  /** Bytes of the token this call made (0 when none). */
  tokenBytes: number;
}

/** The forward proxy of {@link NegotiateAgentOptions.proxy}. */
export interface NegotiateProxyOptions {
  /** The proxy's URL, 'http://host:port' ('https://' for TLS to the proxy), without a user or password (a TypeError). */
  uri: string | URL;
  /** The proxy's service principal name; default `HTTP/<host of uri>` (separate from each origin's). */
  spn?: string;
  /**
   * Fail unless the proxy proves its identity with a final `Proxy-Authenticate: Negotiate <token>`
   * (Kerberos mutual authentication). Default false; a final token the proxy does send is always verified.
   */
  mutualAuthentication?: boolean;
  /** TLS and socket options for the connection to the proxy (undici buildConnector), for an 'https:' uri. */
  connect?: buildConnector.BuildOptions;
  /**
   * Hosts reached directly, as undici's EnvHttpProxyAgent reads NO_PROXY: 'host' that host only,
   * '.example.com' or '*.example.com' names ending so, 'host:port' that port only, '*' all. Default none.
   */
  noProxy?: string[];
}

/** One connection (an undici Client limited to one socket) and what this agent knows of it. */
interface Lease {
  client: Client;
  /** Counts the connections the Client made: a handshake must end on the connection it began on. */
  connections: number;
  /** Counts the connections that closed. */
  disconnects: number;
  socket: TLSSocket | undefined;
  /** A handshake completed on the connection: the server may keep it authenticated. */
  authenticated: boolean;
  /** That handshake was NTLM's, which servers keep on the connection (IIS, ASP.NET Core's default). */
  ntlm: boolean;
  /** Seen: a request without Authorization after the handshake was let through (true) or challenged (false). */
  persisted: boolean | undefined;
}

type Headers = Record<string, string | string[] | undefined>;

/** Forgets what a lease knew of its connection's authentication: a new connection, nobody authenticated it yet. */
function unauthenticated(lease: Lease): void {
  lease.authenticated = false;
  lease.ntlm = false;
  lease.persisted = undefined;
}

/**
 * A completed context that falls short of the agent's requirements (mutualAuthentication: NTLM never
 * sets ISC_RET_MUTUAL_AUTH) as the agent reports it: a NegotiateClientError with the RequirementError's
 * code ('ERR_SSPI_MUTUAL_AUTH_REQUIRED'), naming the peer, the RequirementError as its cause. Any other
 * error is returned as it is.
 */
function unmet(e: unknown, peer: 'server' | 'proxy', scheme: string): unknown {
  if (!(e instanceof RequirementError)) return e;
  return new NegotiateClientError(e.code, `${scheme} with the ${peer}: ${e.message}`, { cause: e });
}

/** An error of the Negotiate/NTLM client: `code` says what went wrong; never holds a token or password. */
export class NegotiateClientError extends Error {
  /** What went wrong, e.g. ERR_SSPI_MUTUAL_AUTH_FAILED, ERR_SSPI_CONNECTION_CHANGED. */
  readonly code: string;
  /**
   * Makes the error (the client does; you catch it).
   * @param code - an `ERR_SSPI_...` code.
   * @param message - what went wrong.
   * @param options - `cause`: the underlying error.
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NegotiateClientError';
    this.code = code;
  }
}

function checkOptions(options: unknown): NegotiateAgentOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new TypeError('options must be an object');
  const o = options as NegotiateAgentOptions;
  if (typeof o.origins === 'function') {
    // a predicate
  } else if (!Array.isArray(o.origins) || !o.origins.every((x) => typeof x === 'string')) {
    throw new TypeError('options.origins must be an array of origins (scheme://host[:port]) or a function');
  }
  if (o.credentials !== undefined && !(o.credentials instanceof Credentials)) throw new TypeError('options.credentials must be a Credentials object');
  if (o.credentials !== undefined && !['negotiate', 'ntlm'].includes(o.credentials.package.toLowerCase())) {
    throw new TypeError(`options.credentials are for ${o.credentials.package}; the HTTP schemes need Negotiate or NTLM credentials`);
  }
  if (o.credentials !== undefined && o.identity !== undefined) throw new TypeError('give options.credentials or options.identity, not both');
  if (o.spn !== undefined && (typeof o.spn !== 'string' || o.spn === '')) throw new TypeError('options.spn must be a non-empty string');
  if (o.schemes !== undefined && (!Array.isArray(o.schemes) || o.schemes.length === 0 || !o.schemes.every((s) => s === 'Negotiate' || s === 'NTLM'))) {
    throw new TypeError("options.schemes must be a non-empty array of 'Negotiate' and 'NTLM'");
  }
  for (const name of ['maxLegs', 'maxBodyBytes'] as const) {
    const v = o[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw new RangeError(`options.${name} must be a positive integer`);
  }
  if (o.channelBindings !== undefined && o.channelBindings !== false && o.channelBindings !== 'tls-server-end-point') {
    throw new TypeError("options.channelBindings must be 'tls-server-end-point' or false");
  }
  if (o.proxy !== undefined && o.proxy !== 'env') checkProxy(o.proxy, 'options.proxy');
  if (o.allowedPackages !== undefined && (!Array.isArray(o.allowedPackages) || o.allowedPackages.length === 0
    || !o.allowedPackages.every((p) => p === 'Kerberos' || p === 'NTLM'))) {
    throw new TypeError("options.allowedPackages must be a non-empty array of 'Kerberos' and/or 'NTLM'");
  }
  if (o.allowedPackages && !o.allowedPackages.includes('NTLM')) {
    if (o.credentials?.package.toLowerCase() === 'ntlm') throw new TypeError('options.credentials are NTLM credentials, which options.allowedPackages does not allow');
    if (o.schemes && !o.schemes.includes('Negotiate')) throw new TypeError("options.schemes: only 'NTLM', which options.allowedPackages does not allow");
  }
  if (o.onLeg !== undefined && typeof o.onLeg !== 'function') throw new TypeError('options.onLeg must be a function');
  return o;
}


/** The proxy of a request: where it goes and how the proxy is authenticated to. */
interface ProxyRoute {
  /** The proxy's origin ('http://proxy:3128'). */
  origin: string;
  spn: string;
  mutualAuthentication: boolean;
  connect: buildConnector.BuildOptions | undefined;
  /** https: origins go through a CONNECT tunnel; http: ones as absolute-form requests to the proxy. */
  tunnel: boolean;
}

/** Validates a proxy option (a URL string, URL or NegotiateProxyOptions); returns it as options. */
function checkProxy(proxy: unknown, name: string): NegotiateProxyOptions {
  const o: NegotiateProxyOptions = typeof proxy === 'string' || proxy instanceof URL ? { uri: proxy } : proxy as NegotiateProxyOptions;
  if (typeof o !== 'object' || o === null) throw new TypeError(`${name} must be a URL, an object with uri, or 'env'`);
  if (typeof o.uri !== 'string' && !(o.uri instanceof URL)) throw new TypeError(`${name}.uri must be a URL string or URL`);
  let url: URL;
  try {
    url = new URL(String(o.uri));
  } catch {
    throw new TypeError(`${name} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`${name} must be an http: or https: URL`);
  // Basic credentials in the URL would be sent as is: this agent authenticates with its own identity.
  if (url.username || url.password) throw new TypeError(`${name} must not hold a user or password (the agent authenticates to the proxy with its own identity)`);
  if (o.spn !== undefined && (typeof o.spn !== 'string' || o.spn === '')) throw new TypeError(`${name}.spn must be a non-empty string`);
  if (o.noProxy !== undefined && (!Array.isArray(o.noProxy) || !o.noProxy.every((x) => typeof x === 'string'))) throw new TypeError(`${name}.noProxy must be an array of strings`);
  return o;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * NO_PROXY matching as undici's EnvHttpProxyAgent does it: 'host' matches that host only,
 * '.example.com' and '*.example.com' any name ending so, 'host:port' that port only, '*' everything.
 */
function bypassed(url: URL, noProxy: string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = Number(url.port || DEFAULT_PORTS[url.protocol]);
  for (const entry of noProxy.flatMap((e) => e.split(/[,\s]/))) {
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.+):(\d+)$/.exec(entry);
    const name = (m ? m[1] : entry).toLowerCase();
    if (m && Number(m[2]) !== port) continue;
    if (/^[.*]/.test(name) ? host.endsWith(name.replace(/^\*/, '')) : host === name) return true;
  }
  return false;
}

/** The challenges of a 401 (or 407): each `WWW-Authenticate` (`Proxy-Authenticate`) value split into scheme and token. */
function challenges(headers: Headers, name: 'www-authenticate' | 'proxy-authenticate' = 'www-authenticate'): { scheme: string; token: string | undefined }[] {
  const raw = headers[name];
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out: { scheme: string; token: string | undefined }[] = [];
  for (const value of values) {
    // Several challenges may share one header, comma-separated; Negotiate/NTLM tokens are base64 (no commas).
    for (const part of value.split(',')) {
      const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+(\S+))?\s*$/.exec(part);
      if (m) out.push({ scheme: m[1], token: m[2] });
    }
  }
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeToken(token: string): Buffer {
  if (!BASE64.test(token)) throw new NegotiateClientError('ERR_SSPI_BAD_TOKEN', 'the server sent a token that is not base64');
  return Buffer.from(token, 'base64');
}

/**
 * A request body as the agent holds it: `bytes` when it is replayable (none, a string or Uint8Array
 * of any size, or an iterable of at most `max` bytes); otherwise `head`, the chunks already read (just
 * over `max` bytes), and `rest`, the caller's iterator, not yet finished, to be streamed once.
 */
type RequestBody =
  | { bytes: Buffer | null; head?: undefined; rest?: undefined }
  | { bytes?: undefined; head: Buffer[]; rest: AsyncIterator<unknown> | Iterator<unknown> };

/** One chunk of a body iterable as a Buffer of its own (the caller may reuse its buffer for the next chunk). */
function chunkBytes(chunk: unknown): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
}

/**
 * Reads a request body: strings and Uint8Arrays as they are (already in memory: replayable whatever
 * their size); an (async) iterable into one Buffer while it stays within `max` bytes, else stops
 * reading as soon as it is over `max` and returns what it read with the unfinished iterator.
 */
async function readBody(body: unknown, max: number): Promise<RequestBody> {
  if (body === undefined || body === null) return { bytes: null };
  if (typeof body === 'string') return { bytes: Buffer.from(body) };
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body) };
  const asyncIterator = (body as AsyncIterable<unknown>)[Symbol.asyncIterator];
  const syncIterator = (body as Iterable<unknown>)[Symbol.iterator];
  if (typeof asyncIterator !== 'function' && typeof syncIterator !== 'function') {
    throw new TypeError('the request body must be a string, Uint8Array, or (async) iterable of them');
  }
  const it = typeof asyncIterator === 'function' ? asyncIterator.call(body) as AsyncIterator<unknown> : syncIterator.call(body) as Iterator<unknown>;
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    // An iterator that throws is finished: nothing to close.
    const r = await it.next();
    if (r.done) return { bytes: Buffer.concat(chunks) };
    let b: Buffer;
    try {
      b = chunkBytes(r.value);
    } catch (e) {
      void closeIterator(it);
      throw e;
    }
    chunks.push(b);
    size += b.length;
    if (size > max) return { head: chunks, rest: it };
  }
}

/**
 * Ends the caller's iterator (its `return`), ignoring what that throws: it is not read further. Not
 * to be awaited: the iterator undici's fetch makes of a stream body never settles its `return()`
 * (measured with undici 6.29 in node.exe 22), which left a fetch whose body was too large hanging.
 */
async function closeIterator(it: AsyncIterator<unknown> | Iterator<unknown>): Promise<void> {
  try {
    await it.return?.();
  } catch {
    // The caller's iterable failing to close is not this request's error.
  }
}

/**
 * The error for a body over maxBodyBytes that could need replaying: nothing was sent. `what` is who is
 * not yet known to challenge: 'this origin', 'this path' (NTLM's body-less first leg needs the path
 * seen challenging) or 'the proxy'.
 */
function tooLarge(max: number, what: string): NegotiateClientError {
  return new NegotiateClientError('ERR_SSPI_BODY_TOO_LARGE', `the request body is over ${max} bytes (maxBodyBytes), the most buffered for an authentication handshake, `
    + `and ${what} is not yet known to this agent to challenge, so the body could need replaying: `
    + 'send one small request to the same URL with this agent first (the body then streams with the handshake), or raise maxBodyBytes');
}

/** A token that is an NTLM NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1: signature, MessageType 1), bare or inside SPNEGO. */
function isNtlmNegotiate(token: Buffer): boolean {
  const at = token.indexOf(NTLMSSP_SIGNATURE);
  return at >= 0 && token.length >= at + 12 && token.readUInt32LE(at + 8) === 1;
}

/** A body over maxBodyBytes being sent once: the chunks read so far, then the rest of the caller's iterator. */
interface StreamedBody {
  /** What undici writes: the head, then the caller's iterator; it stops at an abort or stop(). */
  body: AsyncIterable<Buffer>;
  /** The body was handed to undici (it cannot be sent again). */
  sent: boolean;
  /** The caller's iterator ended (every byte was handed over). */
  finished: boolean;
  /** Reads no more of the caller's iterator (a response came that makes the rest useless). */
  stop(): void;
  /** Ends the caller's iterator unless it finished (its `return`): after the request, whatever its outcome. */
  close(): void;
  /** Resolves once no read of the caller's iterator is under way, or after `ms` milliseconds. */
  settled(ms: number): Promise<void>;
}

function streamBody(head: Buffer[], rest: AsyncIterator<unknown> | Iterator<unknown>, state: { aborted: Error | undefined }): StreamedBody {
  let started = false;
  let stopped = false;
  let closed = false;
  let reading: Promise<unknown> | undefined;
  const closeRest = (): void => {
    if (closed) return;
    closed = true;
    void closeIterator(rest);
  };
  const s: StreamedBody = {
    sent: false,
    finished: false,
    body: {
      [Symbol.asyncIterator]: async function* (): AsyncGenerator<Buffer> {
        started = true;
        try {
          while (head.length > 0) yield head.shift()!; // each chunk let go once written
          for (;;) {
            // An error, not an end: a body cut short must not look complete to the server.
            if (state.aborted) throw state.aborted;
            if (stopped) throw new NegotiateClientError('ERR_SSPI_BODY_NOT_SENT', 'the rest of the request body was not sent: the peer answered first');
            reading = Promise.resolve(rest.next());
            const r = await reading.finally(() => { reading = undefined; }) as IteratorResult<unknown>;
            if (r.done) {
              s.finished = true;
              closed = true;
              return;
            }
            yield chunkBytes(r.value);
          }
        } finally {
          if (!s.finished) closeRest();
        }
      },
    },
    stop: () => { stopped = true; },
    close: () => {
      stopped = true;
      head.length = 0;
      // Not started: the caller's iterator is ended here; started: the generator ends it at its next step.
      if (!started) closeRest();
    },
    settled: async (ms) => {
      if (!reading) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([reading.catch(() => undefined), new Promise((r) => { timer = setTimeout(r, ms); })]);
      clearTimeout(timer);
    },
  };
  return s;
}

/** undici's `headers` of a dispatch (array of pairs, flat array, or object) as a plain object without Authorization. */
function requestHeaders(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (k: string, v: unknown): void => {
    const key = k.toLowerCase();
    if (key === 'authorization' || key === 'proxy-authorization' || key === 'host' || key === 'content-length' || key === 'connection' || key === 'transfer-encoding') return;
    const value = Array.isArray(v) ? v.map(String) : String(v);
    const had = out[key];
    out[key] = had === undefined ? value : ([] as string[]).concat(had, value);
  };
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) for (const [k, v] of headers as [string, unknown][]) add(String(k), v);
    else for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]), headers[i + 1]);
  } else if (headers && typeof headers === 'object') {
    const iterable = headers as Iterable<[string, unknown]>;
    if (typeof iterable[Symbol.iterator] === 'function') for (const [k, v] of iterable) add(k, v);
    else for (const [k, v] of Object.entries(headers)) if (v !== undefined) add(k, v);
  }
  return out;
}

function rawHeaders(headers: Headers): Buffer[] {
  const out: Buffer[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.push(Buffer.from(k), Buffer.from(one, 'latin1'));
  }
  return out;
}

/** Follows CNAME records from `host` (at most 8), returning the last name. */
async function canonicalName(host: string): Promise<string> {
  let name = host;
  for (let i = 0; i < 8; i++) {
    let next: string[];
    try {
      next = await dns.promises.resolveCname(name);
    } catch {
      break;
    }
    if (next.length === 0) break;
    name = next[0];
  }
  return name;
}

/** One side of a request's authentication: the origin server (401) or the proxy (407). */
interface Side {
  peer: 'server' | 'proxy';
  status: 401 | 407;
  header: 'www-authenticate' | 'proxy-authenticate';
  spn: () => Promise<string>;
  mutualAuthentication: boolean;
  scheme: ClientAuthScheme | undefined;
  context: ClientContext | undefined;
  bindings: Buffer | undefined;
  /** Legs answered for this request (all handshakes), bounded by maxLegs. */
  legs: number;
  /** Legs of the current handshake. */
  round: number;
  /** The lease's connection and disconnect counts when the handshake's first token went out. */
  connection: number;
  disconnects: number;
  /** The package afterStep reported for the handshake's last step (Negotiate's choice once it completed). */
  package: string | undefined;
}

function newSide(peer: 'server' | 'proxy', spn: () => Promise<string>, mutualAuthentication: boolean): Side {
  return {
    peer, status: peer === 'server' ? 401 : 407, header: peer === 'server' ? 'www-authenticate' : 'proxy-authenticate',
    spn, mutualAuthentication, scheme: undefined, context: undefined, bindings: undefined, legs: 0, round: 0, connection: -1, disconnects: -1,
    package: undefined,
  };
}

function changed(side: Side): NegotiateClientError {
  return new NegotiateClientError('ERR_SSPI_CONNECTION_CHANGED',
    `the connection closed in the middle of the ${side.scheme} handshake with the ${side.peer} (each leg must use the same connection)`);
}

/** Connections are pooled per origin and per route: a tunnel or a proxy connection is never shared with a direct one. */
function leaseKey(origin: string, route: ProxyRoute | undefined): string {
  return route ? `${origin} via ${route.origin}` : origin;
}

/**
 * An undici Dispatcher that answers `401` challenges `WWW-Authenticate: Negotiate` / `NTLM` with
 * SSPI tokens for one identity, for the origins it is given.
 *
 * ```ts
 * const agent = new NegotiateAgent({ origins: ['http://intranet'] });
 * const res = await fetch('http://intranet/api', { dispatcher: agent });
 * ```
 *
 * Each leg calls [InitializeSecurityContextW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw)
 * through {@link ClientContext.step} (with channel bindings over HTTPS). The request fails (the
 * fetch rejects, `cause` a {@link NegotiateClientError} or SspiError) when: the server's final
 * token does not verify (a forged AP-REP: SEC_E_*), mutual authentication was required and not
 * proven ('ERR_SSPI_MUTUAL_AUTH_REQUIRED': no final token, or a package without it such as NTLM; its
 * `cause` then the context's RequirementError), the connection changed mid-handshake
 * ('ERR_SSPI_CONNECTION_CHANGED'), more than `maxLegs` 401s came ('ERR_SSPI_TOO_MANY_LEGS'), or the
 * server sent a malformed token. A 401 with no further token (a wrong password) is handed back as the
 * response. Contexts are disposed when each request's handshake ends.
 *
 * Request bodies are buffered (at most {@link NegotiateAgentOptions.maxBodyBytes}) and replayed on each
 * leg; a larger (async) iterable body is streamed once where no replay can be needed (an
 * authenticated connection the server keeps; an origin already seen challenging, whose handshake then
 * starts before the body: NTLM's NEGOTIATE with `Content-Length: 0` where that path was seen
 * challenging, Negotiate's token with the body)
 * and is refused elsewhere ('ERR_SSPI_BODY_TOO_LARGE', nothing sent); a server asking for another leg
 * after the body went out fails it ('ERR_SSPI_BODY_NOT_REPLAYABLE').
 *
 * Through a forward proxy ({@link NegotiateAgentOptions.proxy}): http: URLs go to the proxy as
 * absolute-form requests on a connection to it, and its `407 Proxy-Authenticate: Negotiate`/`NTLM` is
 * answered with `Proxy-Authorization` (SPN `HTTP/<proxy host>`; NTLM's legs on that one connection)
 * before any origin 401 is answered; a proxy that authenticates each request is answered again
 * during the origin's legs. https: URLs go through a CONNECT tunnel whose 407 is answered with one
 * Negotiate (Kerberos) token: undici's Client.connect hands the socket over whatever the status, so
 * a second leg (NTLM) cannot be sent on the same proxy connection, and fails with
 * 'ERR_SSPI_PROXY_CONNECT_LEGS' (a proxy offering only NTLM on CONNECT: 'ERR_SSPI_PROXY_AUTH'). A
 * proxy refusing the token fails with 'ERR_SSPI_PROXY_AUTH_FAILED' (fetch itself would turn a 407
 * into a bare "fetch failed"), one answering 407 with no Negotiate/NTLM challenge with
 * 'ERR_SSPI_PROXY_AUTH', a failed CONNECT with 'ERR_SSPI_PROXY_CONNECT'. Proxy-Authorization is only
 * ever sent to the proxy (on the CONNECT, never inside the tunnel); a `Proxy-Authorization` header of
 * the caller's is dropped, as `Authorization` is.
 */
export class NegotiateAgent extends Dispatcher {
  private readonly options: NegotiateAgentOptions;
  private readonly idle = new Map<string, Lease[]>();
  private readonly leased = new Set<Lease>();
  private readonly owned = new Map<string, Promise<Credentials>>();
  /** Origins (and 'proxy ' + proxies' origins) seen answering 401 (407) with a scheme this agent answered, oldest first. */
  private readonly challenged = new Map<string, ClientAuthScheme>();
  private closed = false;

  /** @throws TypeError / RangeError for options of the wrong shape. */
  constructor(options: NegotiateAgentOptions) {
    super();
    this.options = checkOptions(options);
  }

  private authenticates(origin: string): boolean {
    const o = this.options.origins;
    if (typeof o === 'function') return o(origin) === true;
    return o.some((allowed) => {
      try {
        return new URL(allowed).origin === origin;
      } catch {
        return false;
      }
    });
  }

  /** The proxy for `url` (undefined: connect directly), from options.proxy or, for 'env', the environment. */
  private routeFor(url: URL): ProxyRoute | undefined {
    const option = this.options.proxy;
    if (option === undefined) return undefined;
    let proxy: NegotiateProxyOptions;
    if (option === 'env') {
      const env = process.env;
      const value = url.protocol === 'https:' ? env.https_proxy ?? env.HTTPS_PROXY : env.http_proxy ?? env.HTTP_PROXY;
      if (!value) return undefined;
      proxy = checkProxy(value, url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY');
      proxy = { ...proxy, noProxy: [env.no_proxy ?? env.NO_PROXY ?? ''] };
    } else {
      proxy = checkProxy(option, 'options.proxy');
    }
    if (proxy.noProxy && bypassed(url, proxy.noProxy)) return undefined;
    const uri = new URL(String(proxy.uri));
    return {
      origin: uri.origin,
      spn: proxy.spn ?? `HTTP/${uri.hostname.replace(/^\[|\]$/g, '')}`,
      mutualAuthentication: proxy.mutualAuthentication === true,
      connect: proxy.connect,
      tunnel: url.protocol === 'https:',
    };
  }

  /** An idle connection for `origin` (through `route`) or a new one. */
  private lease(origin: string, route: ProxyRoute | undefined): Lease {
    const key = leaseKey(origin, route);
    const list = this.idle.get(key);
    const reused = list?.pop();
    if (reused) {
      this.leased.add(reused);
      return reused;
    }
    const base = buildConnector({ ...(this.options.connect ?? {}) } as buildConnector.BuildOptions);
    const lease: Lease = { client: undefined as unknown as Client, connections: 0, disconnects: 0, socket: undefined, authenticated: false, ntlm: false, persisted: undefined };
    const connected = (callback: buildConnector.Callback) => (err: Error | null, socket: unknown): void => {
      if (!err && socket) {
        lease.connections++;
        unauthenticated(lease);
        lease.socket = typeof socket === 'object' && 'getPeerCertificate' in socket ? socket as TLSSocket : undefined;
      }
      callback(err as Error, socket as never);
    };
    let connect: buildConnector.connector;
    if (!route) {
      connect = (opts, callback) => base(opts, connected(callback));
    } else if (!route.tunnel) {
      // Absolute-form requests to the proxy (RFC 9112 3.2.2) on a connection to the proxy itself.
      const toProxy = buildConnector({ ...(route.connect ?? {}) } as buildConnector.BuildOptions);
      connect = (opts, callback) => toProxy(opts, connected(callback));
    } else {
      // A CONNECT tunnel through the proxy (authenticated by tunnel()), then TLS to the origin over it.
      connect = (opts, callback) => {
        this.tunnel(route, `${opts.hostname}:${opts.port || DEFAULT_PORTS[opts.protocol]}`).then(
          (socket) => base({ ...opts, httpSocket: socket } as buildConnector.Options, connected(callback)),
          (err: Error) => callback(err, null));
      };
    }
    lease.client = new Client(route && !route.tunnel ? route.origin : origin, { pipelining: 1, connect });
    lease.client.on('disconnect', () => {
      lease.disconnects++;
      unauthenticated(lease); // the next request goes on a new connection
    });
    this.leased.add(lease);
    return lease;
  }

  private release(key: string, lease: Lease, reusable: boolean): void {
    this.leased.delete(lease);
    if (!reusable || this.closed) {
      lease.client.destroy().catch(() => undefined);
      return;
    }
    const list = this.idle.get(key) ?? [];
    list.push(lease);
    this.idle.set(key, list);
  }

  /**
   * Opens a CONNECT tunnel to `target` ('host:port') through the proxy, answering a 407 Negotiate
   * challenge with one token (Kerberos). Runs undici's Client.connect, which hands over the socket
   * whatever the status, with the 407's body unread and its HTTP parser gone: the next leg is a new
   * CONNECT on a new connection, so a handshake needing more legs on one connection (NTLM, or
   * Negotiate falling back to NTLM) cannot be done and fails with 'ERR_SSPI_PROXY_CONNECT_LEGS'.
   */
  private async tunnel(route: ProxyRoute, target: string): Promise<Duplex> {
    const proxy = new Client(route.origin, { connect: buildConnector({ ...(route.connect ?? {}) } as buildConnector.BuildOptions) });
    let context: ClientContext | undefined;
    try {
      const open = (authorization?: string): Promise<Dispatcher.ConnectData> => proxy.connect({
        path: target,
        headers: authorization ? { host: target, 'proxy-authorization': authorization } : { host: target },
      });
      let res = await open();
      try {
        if (res.statusCode === 407) {
          res.socket.destroy();
          const offered = challenges(res.headers as Headers, 'proxy-authenticate');
          if (!this.wanted().includes('Negotiate') || !offered.some((c) => c.scheme.toLowerCase() === 'negotiate')) {
            throw new NegotiateClientError('ERR_SSPI_PROXY_AUTH', `the proxy answered CONNECT with 407 and no challenge this agent answers over CONNECT (Negotiate; NTLM needs its legs on one connection): ${offered.map((c) => c.scheme).join(', ') || 'none'}`);
          }
          context = new ClientContext(await this.credentialsFor('Negotiate'), {
            targetName: route.spn,
            ...(route.mutualAuthentication ? { requirements: { mutualAuthentication: true } } : {}),
          });
          const step = await context.step();
          this.afterStep('proxy', 'Negotiate', context, step, 1, false);
          if (!step.token) throw new NegotiateClientError('ERR_SSPI_NO_TOKEN', `Negotiate: InitializeSecurityContext (${step.code}) produced no token for the proxy`);
          res = await open(`Negotiate ${step.token.toString('base64')}`);
          if (res.statusCode === 407) {
            const next = challenges(res.headers as Headers, 'proxy-authenticate').find((c) => c.scheme.toLowerCase() === 'negotiate');
            if (next?.token) {
              throw new NegotiateClientError('ERR_SSPI_PROXY_CONNECT_LEGS', 'the proxy continued the Negotiate handshake on CONNECT (NTLM inside Negotiate?): only a one-leg handshake (Kerberos) is possible on CONNECT, each leg being a new connection');
            }
            throw new NegotiateClientError('ERR_SSPI_PROXY_AUTH_FAILED', 'the proxy refused the Negotiate token for CONNECT (407)');
          }
          if (res.statusCode === 200) await this.verifyFinal(context, 'Negotiate', res.headers as Headers, 'proxy-authenticate', route.mutualAuthentication, 'proxy', 2);
        }
        if (res.statusCode !== 200) throw new NegotiateClientError('ERR_SSPI_PROXY_CONNECT', `the proxy answered CONNECT ${target} with ${res.statusCode}`);
      } catch (e) {
        res.socket.destroy();
        throw e;
      }
      return res.socket;
    } catch (e) {
      // undici's Client retries a connector that fails with a socket error (UND_ERR_SOCKET) at once
      // and forever: a proxy dropping every CONNECT would loop. Any failure here ends the request.
      if (e instanceof NegotiateClientError || e instanceof SspiError) throw e;
      throw new NegotiateClientError('ERR_SSPI_PROXY_CONNECT', `CONNECT ${target} through the proxy failed: ${(e as Error).message}`, { cause: e });
    } finally {
      context?.dispose();
      proxy.destroy().catch(() => undefined);
    }
  }

  /** The schemes this agent answers, in order. */
  private wanted(): ClientAuthScheme[] {
    if (this.options.credentials) return [this.options.credentials.package.toLowerCase() === 'ntlm' ? 'NTLM' : 'Negotiate'];
    const schemes = this.options.schemes ?? ['Negotiate', 'NTLM'];
    return this.options.allowedPackages && !this.options.allowedPackages.includes('NTLM') ? schemes.filter((x) => x !== 'NTLM') : schemes;
  }

  /** The first scheme this agent answers that a 401/407 offers (its challenges), or undefined. */
  private offeredScheme(offered: { scheme: string }[]): ClientAuthScheme | undefined {
    return this.wanted().find((w) => offered.some((c) => c.scheme.toLowerCase() === w.toLowerCase()));
  }

  /**
   * After each InitializeSecurityContext: enforces allowedPackages (no NTLM message sent when NTLM
   * is not allowed; the completed context's package) and reports the leg to onLeg.
   */
  private afterStep(peer: 'server' | 'proxy', scheme: ClientAuthScheme, context: ClientContext, step: StepResult, leg: number, withPeerToken: boolean): string {
    const allowed = this.options.allowedPackages;
    const ntlmAllowed = !allowed || allowed.includes('NTLM');
    // Anywhere in the token: Microsoft's Negotiate wraps the NTLM message in SPNEGO (Wine's sends it bare).
    if (!ntlmAllowed && step.token?.includes(NTLMSSP_SIGNATURE)) {
      throw new NegotiateClientError('ERR_SSPI_PACKAGE_NOT_ALLOWED',
        `${scheme} chose NTLM with the ${peer}, which options.allowedPackages does not allow (no Kerberos ticket for that SPN or user?)`);
    }
    let pkg = context.package;
    if (step.complete || allowed) {
      try {
        pkg = context.negotiationInfo().PackageInfo?.Name ?? pkg;
      } catch {
        // Not Negotiate, or SSPI cannot say (yet): the credentials' package stands.
      }
    }
    // On completion every package must be allowed; before it, a package SSPI already reports as chosen.
    const known = pkg.toLowerCase() === 'kerberos' || pkg.toLowerCase() === 'ntlm';
    if (allowed && (step.complete || known) && !allowed.some((a) => a.toLowerCase() === pkg.toLowerCase())) {
      throw new NegotiateClientError('ERR_SSPI_PACKAGE_NOT_ALLOWED', `the handshake with the ${peer} completed with ${pkg}, which options.allowedPackages does not allow`);
    }
    this.options.onLeg?.({
      peer, scheme, package: pkg, leg, status: step.code, complete: step.complete,
      // [ISC_RET_MUTUAL_AUTH](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-initializesecuritycontextw)
      // on the call that took the peer's token and completed the context.
      mutualAuth: step.complete && withPeerToken && (step.contextAttr & ISC_RET.MUTUAL_AUTH) !== 0,
      tokenBytes: step.token?.length ?? 0,
    });
    return pkg;
  }

  /**
   * Verifies the final token of a handshake the peer accepted; throws when it fails or is required and
   * missing. Returns the package afterStep reported when there was a final token to step with.
   */
  private async verifyFinal(context: ClientContext, scheme: ClientAuthScheme, headers: Headers, header: 'www-authenticate' | 'proxy-authenticate',
    required: boolean, peer: 'server' | 'proxy', leg: number): Promise<string | undefined> {
    if (context.complete) return undefined;
    const final = challenges(headers, header).find((c) => c.scheme.toLowerCase() === scheme.toLowerCase())?.token;
    if (final) {
      let step: StepResult;
      try {
        step = await context.step(decodeToken(final));
      } catch (e) {
        if (e instanceof RequirementError) throw unmet(e, peer, scheme);
        throw new NegotiateClientError('ERR_SSPI_MUTUAL_AUTH_FAILED', `the ${peer}'s final ${scheme} token did not verify: ${(e as Error).message}`, { cause: e });
      }
      return this.afterStep(peer, scheme, context, step, leg, true);
    }
    if (required) throw new NegotiateClientError('ERR_SSPI_MUTUAL_AUTH_REQUIRED', `the ${peer} sent no final ${scheme} token: it did not prove its identity`);
    return undefined;
  }

  private credentialsFor(pkg: string): Promise<Credentials> {
    if (this.options.credentials) return Promise.resolve(this.options.credentials);
    let p = this.owned.get(pkg);
    if (!p) {
      p = Credentials.acquire({ package: pkg, use: 'outbound', ...(this.options.identity ? { identity: this.options.identity } : {}) });
      this.owned.set(pkg, p);
      p.catch(() => this.owned.delete(pkg));
    }
    return p;
  }

  private async spnFor(url: URL): Promise<string> {
    if (this.options.spn) return this.options.spn;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return `HTTP/${this.options.canonicalizeHostname ? await canonicalName(host) : host}`;
  }

  /**
   * undici's Dispatcher.dispatch: runs the request (and its handshake) and reports it to `handler`,
   * which may have either of undici's handler shapes (Node 26's global fetch passes the controller
   * one: lib/http/handler.ts).
   */
  dispatch(opts: Dispatcher.DispatchOptions, dispatchHandler: Dispatcher.DispatchHandlers): boolean {
    const handler = toLegacyHandler(dispatchHandler);
    if (this.closed) {
      queueMicrotask(() => handler.onError?.(new NegotiateClientError('ERR_SSPI_AGENT_CLOSED', 'the NegotiateAgent is closed')));
      return true;
    }
    const state = { aborted: undefined as Error | undefined, abortCurrent: undefined as (() => void) | undefined };
    handler.onConnect?.((reason?: Error) => {
      state.aborted = reason ?? new Error('aborted');
      state.abortCurrent?.();
    });
    this.run(opts, handler, state).catch((err: unknown) => {
      handler.onError?.(err instanceof Error ? err : new Error(String(err)));
    });
    return true;
  }

  /**
   * Answers one 401 (origin) or 407 (proxy) with the next leg of `side`'s handshake: returns the
   * header value to send, or undefined to hand the response back (no scheme answered, or the peer
   * refused the token it was sent: a 401/407 with no further token).
   */
  private async answer(side: Side, res: Dispatcher.ResponseData, sentOurs: boolean, lease: Lease, socket: TLSSocket | undefined): Promise<string | undefined> {
    const offered = challenges(res.headers as Headers, side.header);
    if (side.context && sentOurs) {
      const mine = offered.find((c) => c.scheme.toLowerCase() === side.scheme!.toLowerCase());
      // No further token: the peer refused (a wrong password); hand it back.
      if (!mine?.token || side.context.complete) return undefined;
    } else {
      // A first challenge, or a new one after a handshake that ended (a proxy authenticating each request).
      const scheme = this.offeredScheme(offered);
      if (!scheme) {
        side.context?.dispose();
        side.context = undefined;
        return undefined; // not a challenge we answer: the 401/407 is the response
      }
      await this.startContext(side, scheme, socket);
    }
    const maxLegs = this.options.maxLegs ?? DEFAULT_MAX_LEGS;
    if (++side.legs > maxLegs) {
      throw new NegotiateClientError('ERR_SSPI_TOO_MANY_LEGS', `the ${side.peer} answered ${side.status} more than ${maxLegs} times in one ${side.scheme} handshake`);
    }
    side.round++;
    const context = side.context!;
    const incoming = offered.find((c) => c.scheme.toLowerCase() === side.scheme!.toLowerCase())?.token;
    const withPeerToken = incoming !== undefined && side.round > 1;
    const step = await context.step(withPeerToken ? decodeToken(incoming) : undefined,
      side.bindings && side.scheme === 'NTLM' && side.round > 1 ? { channelBindings: side.bindings } : undefined)
      .catch((e: unknown) => { throw unmet(e, side.peer, side.scheme!); });
    side.package = this.afterStep(side.peer, side.scheme!, context, step, side.round, withPeerToken);
    await res.body.dump();
    if (side.round > 1 && lease.disconnects !== side.disconnects) throw changed(side);
    if (!step.token) throw new NegotiateClientError('ERR_SSPI_NO_TOKEN', `${side.scheme}: InitializeSecurityContext (${step.code}) produced no token for the ${side.peer}`);
    return `${side.scheme} ${step.token.toString('base64')}`;
  }

  /** Starts `side`'s handshake with `scheme`: a new ClientContext (the previous one disposed), with the bindings of `socket` (HTTPS). */
  private async startContext(side: Side, scheme: ClientAuthScheme, socket: TLSSocket | undefined): Promise<void> {
    side.context?.dispose();
    side.context = undefined;
    side.round = 0;
    side.scheme = scheme;
    side.package = undefined;
    const credentials = await this.credentialsFor(scheme);
    side.bindings = this.options.channelBindings !== false && socket ? tlsServerEndPointBindings(socket, 'client') : undefined;
    side.context = new ClientContext(credentials, {
      targetName: await side.spn(),
      // NTLM carries the bindings in its AUTHENTICATE_MESSAGE only ([MS-NLMP] 2.2.2.1
      // MsvAvChannelBindings): they go with the steps from the second on (see answer()), and
      // Wine's NTLM refuses an input descriptor on the first call (test/unit/bindings.test.ts).
      // Negotiate's first token is Kerberos' AP-REQ, whose checksum holds them: every step.
      ...(side.bindings && scheme === 'Negotiate' ? { channelBindings: side.bindings } : {}),
      ...(side.mutualAuthentication ? { requirements: { mutualAuthentication: true } } : {}),
    });
  }

  /**
   * The first token of a handshake with the server sent before any 401 (for a streamed body to an
   * origin known to challenge with `scheme`): returns the token, which goes out as `Authorization`.
   */
  private async preempt(side: Side, scheme: ClientAuthScheme, socket: TLSSocket | undefined): Promise<Buffer> {
    await this.startContext(side, scheme, socket);
    side.legs++;
    side.round = 1;
    const step = await side.context!.step().catch((e: unknown) => { throw unmet(e, side.peer, scheme); });
    side.package = this.afterStep(side.peer, scheme, side.context!, step, 1, false);
    if (!step.token) throw new NegotiateClientError('ERR_SSPI_NO_TOKEN', `${scheme}: InitializeSecurityContext (${step.code}) produced no token for the ${side.peer}`);
    return step.token;
  }

  /** Remembers that `key` (an origin, or 'proxy ' + a proxy's origin) challenged with `scheme`, forgetting the oldest past MAX_REMEMBERED. */
  private remember(key: string, scheme: ClientAuthScheme): void {
    this.challenged.delete(key);
    this.challenged.set(key, scheme);
    if (this.challenged.size > MAX_REMEMBERED) this.challenged.delete(this.challenged.keys().next().value as string);
  }

  private async run(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers,
    state: { aborted: Error | undefined; abortCurrent: (() => void) | undefined }): Promise<void> {
    const origin = new URL(String(opts.origin)).origin;
    const url = new URL(opts.path, origin);
    const max = this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const read = await readBody(opts.body, max);
    const headers = requestHeaders(opts.headers);
    const authenticate = this.authenticates(origin);
    const route = this.routeFor(url);
    // Plain http: through a proxy: absolute-form requests to the proxy, which answers 407 itself.
    const viaProxy = route !== undefined && !route.tunnel;
    const key = leaseKey(origin, route);
    const lease = this.lease(origin, route);
    const server = newSide('server', async () => this.spnFor(url), this.options.mutualAuthentication === true);
    const proxy = newSide('proxy', async () => route!.spn, route?.mutualAuthentication === true);
    const stream = read.rest ? streamBody(read.head, read.rest, state) : undefined;
    let reusable = false;
    try {
      let authorization: string | undefined;
      let proxyAuthorization: string | undefined;
      /** The request goes out without the streamed body (Content-Length: 0): its Authorization is an NTLM NEGOTIATE_MESSAGE. */
      let bodyless = false;
      if (stream) {
        // A body over maxBodyBytes is sent once: only where the handshake cannot need to replay it.
        const known = authenticate ? this.challenged.get(origin) : undefined;
        // NTLM's NEGOTIATE leg goes without the body: only to a path seen challenging, so that it cannot
        // reach an application that lets that path through unauthenticated (as an empty request).
        const pathChallenges = authenticate && this.challenged.has(`${origin}${url.pathname}`);
        const bindingsReady = url.protocol !== 'https:' || this.options.channelBindings === false || lease.socket !== undefined;
        const proxyChallenges = viaProxy && this.challenged.has(`proxy ${route.origin}`);
        // A connection kept authenticated: seen so, or NTLM's (connection-based by design).
        const persisted = lease.authenticated && (lease.persisted ?? lease.ntlm);
        if (!proxyChallenges && known && !persisted && this.wanted().includes(known) && (known === 'NTLM' ? pathChallenges : bindingsReady)) {
          // An origin known to challenge: its handshake starts before any 401. NTLM's NEGOTIATE leg
          // goes without the body (no server can accept it: the application never sees it), the body
          // with the AUTHENTICATE leg; Kerberos' AP-REQ goes with the body (pre-emptive).
          const token = await this.preempt(server, known, viaProxy ? undefined : lease.socket);
          bodyless = isNtlmNegotiate(token);
          if (bodyless && !pathChallenges) {
            // Negotiate chose NTLM (no Kerberos for this SPN): the same rule as NTLM's, nothing sent.
            reusable = true;
            throw tooLarge(max, 'this path');
          }
          server.connection = -1;
          authorization = `${known} ${token.toString('base64')}`;
        } else if (proxyChallenges || (authenticate && !persisted)) {
          reusable = true; // nothing was sent
          throw tooLarge(max, proxyChallenges ? 'the proxy' : known === 'NTLM' ? 'this path' : 'this origin');
        }
        // Else: no handshake to replay for (an origin this agent does not authenticate to, or a
        // connection the server keeps authenticated): the body goes out directly, once.
      }
      const send = async (): Promise<Dispatcher.ResponseData> => {
        if (state.aborted) throw state.aborted;
        const controller = new AbortController();
        state.abortCurrent = () => controller.abort(state.aborted);
        const h: Record<string, string | string[]> = { ...headers };
        if (viaProxy) h.host = url.host;
        if (authorization) h.authorization = authorization;
        if (proxyAuthorization) h['proxy-authorization'] = proxyAuthorization; // to the proxy only: never set without a proxy route
        let body: Buffer | null | AsyncIterable<Buffer> = read.bytes ?? null;
        if (stream) {
          if (bodyless) {
            body = null;
            h['content-length'] = '0';
          } else {
            if (stream.sent) throw new Error('NegotiateAgent: a streamed body cannot be sent twice'); // the loop below never asks
            stream.sent = true;
            body = stream.body;
          }
        }
        const res = await lease.client.request({ path: viaProxy ? url.href : opts.path, method: opts.method, headers: h,
          // undici writes an async iterable body as it reads it (its types list only Readable).
          body: body as Dispatcher.RequestOptions['body'], signal: controller.signal });
        for (const side of [server, proxy]) {
          if (side.round === 1 && side.connection === -1) {
            side.connection = lease.connections;
            side.disconnects = lease.disconnects;
          } else if (side.round > 1 && side.context && !side.context.complete && lease.connections !== side.connection) {
            await res.body.dump().catch(() => undefined);
            throw changed(side);
          }
        }
        return res;
      };
      /** The streamed body went out and the peer wants another leg: it cannot be replayed. */
      const notReplayable = async (res: Dispatcher.ResponseData, peer: 'server' | 'proxy'): Promise<never> => {
        stream?.stop();
        await res.body.dump().catch(() => undefined);
        throw new NegotiateClientError('ERR_SSPI_BODY_NOT_REPLAYABLE', `the ${peer} answered ${res.statusCode} to the request whose body (over ${max} bytes, maxBodyBytes) `
          + 'was streamed and cannot be sent again: send a body of at most maxBodyBytes, or raise maxBodyBytes');
      };
      const wasAuthenticated = lease.authenticated && authorization === undefined ? lease.connections : -1;
      let res = await send();
      // What a server does with an authenticated connection, seen on its first request without Authorization.
      if (wasAuthenticated === lease.connections && lease.authenticated) lease.persisted = res.statusCode !== 401;
      for (;;) {
        if (viaProxy && res.statusCode === 407) {
          const offers = this.offeredScheme(challenges(res.headers as Headers, 'proxy-authenticate'));
          if (offers) this.remember(`proxy ${route.origin}`, offers);
          if (stream?.sent) await notReplayable(res, 'proxy');
          const sent = proxyAuthorization !== undefined;
          proxyAuthorization = undefined;
          const next = await this.answer(proxy, res, sent, lease, undefined);
          if (!next) {
            // fetch turns a 407 into a bare network error (the Fetch standard: no UI to ask): say why instead.
            const offered = challenges(res.headers as Headers, 'proxy-authenticate').map((c) => c.scheme).join(', ') || 'none';
            await res.body.dump().catch(() => undefined);
            throw sent
              ? new NegotiateClientError('ERR_SSPI_PROXY_AUTH_FAILED', `the proxy refused the ${proxy.scheme} token (407)`)
              : new NegotiateClientError('ERR_SSPI_PROXY_AUTH', `the proxy answered 407 with no challenge this agent answers: ${offered}`);
          }
          if (proxy.round === 1) proxy.connection = -1;
          proxyAuthorization = next;
          res = await send();
          continue;
        }
        if (viaProxy && proxy.context) {
          // The proxy let the request through: its final token (if any) must verify; its handshake is over.
          try {
            await this.verifyFinal(proxy.context, proxy.scheme!, res.headers as Headers, 'proxy-authenticate', proxy.mutualAuthentication, 'proxy', proxy.round + 1);
          } catch (e) {
            await res.body.dump().catch(() => undefined);
            throw e;
          }
          proxyAuthorization = undefined;
        }
        if (authenticate && res.statusCode === 401) {
          const offered = challenges(res.headers as Headers);
          const offers = this.offeredScheme(offered);
          if (offers && authorization === undefined) {
            this.remember(origin, offers);
            this.remember(`${origin}${url.pathname}`, offers);
          }
          if (stream?.sent) {
            // The body is gone: a further token of our handshake fails the request; any other 401 is the response.
            const further = server.context && !server.context.complete
              && offered.some((c) => c.scheme.toLowerCase() === server.scheme!.toLowerCase() && c.token);
            if (further) await notReplayable(res, 'server');
            stream.stop();
            break;
          }
          const sent = authorization !== undefined;
          const next = await this.answer(server, res, sent, lease, viaProxy ? undefined : lease.socket);
          if (!next) break;
          if (server.round === 1) server.connection = -1;
          authorization = next;
          bodyless = stream !== undefined && server.round === 1 && isNtlmNegotiate(decodeToken(next.slice(next.indexOf(' ') + 1)));
          res = await send();
          continue;
        }
        if (server.context) {
          try {
            server.package = await this.verifyFinal(server.context, server.scheme!, res.headers as Headers, 'www-authenticate', server.mutualAuthentication, 'server', server.round + 1)
              ?? server.package;
          } catch (e) {
            stream?.stop();
            await res.body.dump().catch(() => undefined);
            throw e;
          }
          if (server.context.complete && lease.connections === server.connection) {
            lease.authenticated = true;
            lease.ntlm = server.package?.toUpperCase() === 'NTLM';
            lease.persisted = undefined;
          }
        }
        break;
      }
      if (state.aborted) throw state.aborted;
      await this.deliver(res, handler, state);
      // A streamed body the server answered before reading it whole leaves the connection mid-request.
      reusable = !stream || !stream.sent || stream.finished;
    } finally {
      stream?.close();
      // undici's fetch, once it learns the request failed, reads the rest of its body iterable to
      // the end (without yielding) in a read already under way: let that read finish first, so the
      // failure reaches fetch with nothing of the caller's being read. (An abort fetch saw first
      // cannot be helped: fetch is cancelled already.)
      // Bounded: a caller's stream that stalls (a pipe waiting for input) must not hold the request's
      // outcome, its contexts and its connection.
      if (stream && !state.aborted) await stream.settled(SETTLE_MS);
      server.context?.dispose();
      proxy.context?.dispose();
      this.release(key, lease, reusable);
    }
  }

  private async deliver(res: Dispatcher.ResponseData, handler: Dispatcher.DispatchHandlers,
    state: { aborted: Error | undefined; abortCurrent: (() => void) | undefined }): Promise<void> {
    let resume: (() => void) | undefined;
    const resumed = (): void => {
      const r = resume;
      resume = undefined;
      r?.();
    };
    // An abort while the body streams (or waits for the consumer) ends the body and the wait.
    state.abortCurrent = () => {
      res.body.destroy(state.aborted);
      resumed();
    };
    if (handler.onHeaders?.(res.statusCode, rawHeaders(res.headers as Headers), resumed, '') === false) {
      await new Promise<void>((r) => { resume = r; });
    }
    for await (const chunk of res.body) {
      if (state.aborted) break;
      if (handler.onData?.(chunk as Buffer) === false) await new Promise<void>((r) => { resume = r; });
    }
    if (state.aborted) throw state.aborted;
    // No trailers: an empty list (undici's request() API parses what it is given; null throws there).
    handler.onComplete?.([]);
  }

  /** Closes every connection once its request is done, then disposes the credentials this agent acquired. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((l) => l.client.close().catch(() => undefined)));
    for (const p of this.owned.values()) (await p.catch(() => undefined))?.dispose();
    this.owned.clear();
  }

  /** Destroys every connection at once (requests in flight fail), then disposes the credentials this agent acquired. */
  async destroy(): Promise<void> {
    this.closed = true;
    const all = [...this.idle.values()].flat().concat([...this.leased]);
    this.idle.clear();
    await Promise.all(all.map((l) => l.client.destroy().catch(() => undefined)));
    for (const p of this.owned.values()) (await p.catch(() => undefined))?.dispose();
    this.owned.clear();
  }
}

/** `init` of {@link sspiFetch}: fetch's RequestInit and the agent's options. */
export interface SspiFetchInit extends RequestInit {
  /** Options of the {@link NegotiateAgent} used (its `origins` default to the URL's origin). */
  sspi?: Partial<NegotiateAgentOptions>;
}

/**
 * `fetch(url, init)` (undici's) through a {@link NegotiateAgent} made for this one call, which
 * authenticates to the URL's origin only (a redirect to another origin is followed without
 * authentication) and is closed once the response body has been read.
 * @rejects TypeError as fetch does (its `cause` a {@link NegotiateClientError} or SspiError for a
 *   failed handshake: see {@link NegotiateAgent}).
 */
export async function sspiFetch(url: string | URL, init: SspiFetchInit = {}): Promise<Response> {
  const { sspi, ...rest } = init;
  const agent = new NegotiateAgent({ origins: [new URL(String(url)).origin], ...(sspi ?? {}) } as NegotiateAgentOptions);
  try {
    const res = await undiciFetch(url, { ...(rest as object), dispatcher: agent } as never);
    agent.close().catch(() => undefined); // graceful: waits for the body to be read
    return res as unknown as Response;
  } catch (e) {
    await agent.destroy();
    throw e;
  }
}

