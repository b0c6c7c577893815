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
 * to {@link NegotiateAgentOptions.maxBodyBytes}); a stream body larger than that fails with a clear
 * error before anything is sent. (A body-less probe would send a different request, with another
 * method's semantics, to the server; buffering keeps the request the user wrote.)
 */
import * as dns from 'node:dns';
import type { TLSSocket } from 'node:tls';

import { Client, Dispatcher, buildConnector, fetch as undiciFetch } from 'undici';

import { tlsServerEndPointBindings } from '../bindings';
import { ClientContext } from '../context';
import { AuthIdentity, Credentials } from '../credentials';
import { toLegacyHandler } from './handler';


/** HTTP authentication schemes answered: RFC 4559's Negotiate and Microsoft's NTLM. */
export type ClientAuthScheme = 'Negotiate' | 'NTLM';

/** Default {@link NegotiateAgentOptions.maxLegs}: 401 answers followed in one request. */
export const DEFAULT_MAX_LEGS = 8;
/** Default {@link NegotiateAgentOptions.maxBodyBytes}: 16 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

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
  /** Largest request body buffered for the handshake's replay, in bytes. Default 16 MiB. */
  maxBodyBytes?: number;
  /** TLS and socket options for connections (undici buildConnector: ca, servername, rejectUnauthorized, ...). */
  connect?: buildConnector.BuildOptions;
}

/** One connection (an undici Client limited to one socket) and what this agent knows of it. */
interface Lease {
  client: Client;
  /** Counts the connections the Client made: a handshake must end on the connection it began on. */
  connections: number;
  /** Counts the connections that closed. */
  disconnects: number;
  socket: TLSSocket | undefined;
  /** The connection was authenticated with a package the server may persist (NTLM). */
  authenticated: boolean;
}

type Headers = Record<string, string | string[] | undefined>;

/** An error of the Negotiate/NTLM client: `code` says what went wrong; never holds a token or password. */
export class NegotiateClientError extends Error {
  readonly code: string;
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
  return o;
}

/** The challenges of a 401: each `WWW-Authenticate` value split into scheme and token. */
function challenges(headers: Headers): { scheme: string; token: string | undefined }[] {
  const raw = headers['www-authenticate'];
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

/** Reads a request body into one Buffer (null for none), refusing more than `max` bytes. */
async function bodyBytes(body: unknown, max: number): Promise<Buffer | null> {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (body as Iterable<unknown>)[Symbol.iterator] === 'function') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<unknown>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      size += b.length;
      if (size > max) throw new NegotiateClientError('ERR_SSPI_BODY_TOO_LARGE', `the request body is over ${max} bytes, the most buffered for the authentication handshake`);
      chunks.push(b);
    }
    return Buffer.concat(chunks);
  }
  throw new TypeError('the request body must be a string, Uint8Array, or (async) iterable of them');
}

/** undici's `headers` of a dispatch (array of pairs, flat array, or object) as a plain object without Authorization. */
function requestHeaders(headers: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const add = (k: string, v: unknown): void => {
    const key = k.toLowerCase();
    if (key === 'authorization' || key === 'host' || key === 'content-length' || key === 'connection' || key === 'transfer-encoding') return;
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
 * proven ('ERR_SSPI_MUTUAL_AUTH_REQUIRED'), the connection changed mid-handshake
 * ('ERR_SSPI_CONNECTION_CHANGED'), more than `maxLegs` 401s came ('ERR_SSPI_TOO_MANY_LEGS'), or the
 * server sent a malformed token. A 401 with no further token (a wrong password) is handed back as the
 * response. Contexts are disposed when each request's handshake ends.
 */
export class NegotiateAgent extends Dispatcher {
  private readonly options: NegotiateAgentOptions;
  private readonly idle = new Map<string, Lease[]>();
  private readonly leased = new Set<Lease>();
  private readonly owned = new Map<string, Promise<Credentials>>();
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

  private lease(origin: string): Lease {
    const list = this.idle.get(origin);
    const reused = list?.pop();
    if (reused) {
      this.leased.add(reused);
      return reused;
    }
    const base = buildConnector({ ...(this.options.connect ?? {}) } as buildConnector.BuildOptions);
    const lease: Lease = { client: undefined as unknown as Client, connections: 0, disconnects: 0, socket: undefined, authenticated: false };
    lease.client = new Client(origin, {
      pipelining: 1,
      connect: (opts, callback) => base(opts, (err, socket) => {
        if (!err && socket) {
          lease.connections++;
          lease.authenticated = false;
          lease.socket = 'getPeerCertificate' in socket ? socket as TLSSocket : undefined;
        }
        callback(err as Error, socket as never);
      }),
    });
    lease.client.on('disconnect', () => { lease.disconnects++; });
    this.leased.add(lease);
    return lease;
  }

  private release(origin: string, lease: Lease, reusable: boolean): void {
    this.leased.delete(lease);
    if (!reusable || this.closed) {
      lease.client.destroy().catch(() => undefined);
      return;
    }
    const list = this.idle.get(origin) ?? [];
    list.push(lease);
    this.idle.set(origin, list);
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

  private async run(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers,
    state: { aborted: Error | undefined; abortCurrent: (() => void) | undefined }): Promise<void> {
    const origin = new URL(String(opts.origin)).origin;
    const url = new URL(opts.path, origin);
    const body = await bodyBytes(opts.body, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    const headers = requestHeaders(opts.headers);
    const authenticate = this.authenticates(origin);
    const lease = this.lease(origin);
    let reusable = false;
    let context: ClientContext | undefined;
    try {
      const send = async (authorization?: string): Promise<Dispatcher.ResponseData> => {
        if (state.aborted) throw state.aborted;
        const controller = new AbortController();
        state.abortCurrent = () => controller.abort(state.aborted);
        const h = authorization ? { ...headers, authorization } : headers;
        return lease.client.request({ path: opts.path, method: opts.method, headers: h, body, signal: controller.signal });
      };
      let res = await send();
      let scheme: ClientAuthScheme | undefined;
      let connection = -1;
      let disconnects = -1;
      const changed = (): NegotiateClientError => new NegotiateClientError('ERR_SSPI_CONNECTION_CHANGED',
        `the connection closed in the middle of the ${scheme} handshake (each leg must use the same connection)`);
      let legs = 0;
      let bindings: Buffer | undefined;
      const maxLegs = this.options.maxLegs ?? DEFAULT_MAX_LEGS;
      while (authenticate) {
        const offered = challenges(res.headers as Headers);
        if (res.statusCode === 401) {
          if (!scheme) {
            const wanted = this.options.credentials ? [(this.options.credentials.package.toLowerCase() === 'ntlm' ? 'NTLM' : 'Negotiate') as ClientAuthScheme] : this.options.schemes ?? ['Negotiate', 'NTLM'];
            scheme = wanted.find((w) => offered.some((c) => c.scheme.toLowerCase() === w.toLowerCase()));
            if (!scheme) break; // not a challenge we answer: the 401 is the response
            const credentials = await this.credentialsFor(scheme);
            const channelBindings = this.options.channelBindings !== false && lease.socket ? tlsServerEndPointBindings(lease.socket, 'client') : undefined;
            bindings = channelBindings;
            context = new ClientContext(credentials, {
              targetName: await this.spnFor(url),
              // NTLM carries the bindings in its AUTHENTICATE_MESSAGE only ([MS-NLMP] 2.2.2.1
              // MsvAvChannelBindings): they go with the steps from the second on (see below), and
              // Wine's NTLM refuses an input descriptor on the first call (test/unit/bindings.test.ts).
              // Negotiate's first token is Kerberos' AP-REQ, whose checksum holds them: every step.
              ...(channelBindings && scheme === 'Negotiate' ? { channelBindings } : {}),
              ...(this.options.mutualAuthentication ? { requirements: { mutualAuthentication: true } } : {}),
            });
          } else {
            const mine = offered.find((c) => c.scheme.toLowerCase() === scheme!.toLowerCase());
            // A 401 without a further token: the server refused (a wrong password); hand it back.
            if (!mine?.token || context!.complete) break;
          }
          if (++legs > maxLegs) throw new NegotiateClientError('ERR_SSPI_TOO_MANY_LEGS', `the server answered 401 more than ${maxLegs} times in one ${scheme} handshake`);
          const incoming = offered.find((c) => c.scheme.toLowerCase() === scheme!.toLowerCase())?.token;
          const step = await context!.step(incoming && legs > 1 ? decodeToken(incoming) : undefined,
            bindings && scheme === 'NTLM' && legs > 1 ? { channelBindings: bindings } : undefined);
          await res.body.dump();
          if (legs > 1 && lease.disconnects !== disconnects) throw changed();
          if (!step.token) throw new NegotiateClientError('ERR_SSPI_NO_TOKEN', `${scheme}: InitializeSecurityContext (${step.code}) produced no token for the server`);
          res = await send(`${scheme} ${step.token.toString('base64')}`);
          if (legs === 1) {
            connection = lease.connections;
            disconnects = lease.disconnects;
          } else if (lease.connections !== connection) {
            await res.body.dump().catch(() => undefined);
            throw changed();
          }
          continue;
        }
        if (context && !context.complete) {
          // The server accepted: its final token (Kerberos' AP-REP) must verify.
          const final = offered.find((c) => c.scheme.toLowerCase() === scheme!.toLowerCase())?.token;
          if (final) {
            try {
              await context.step(decodeToken(final));
            } catch (e) {
              await res.body.dump().catch(() => undefined);
              throw new NegotiateClientError('ERR_SSPI_MUTUAL_AUTH_FAILED', `the server's final ${scheme} token did not verify: ${(e as Error).message}`, { cause: e });
            }
          } else if (this.options.mutualAuthentication) {
            await res.body.dump().catch(() => undefined);
            throw new NegotiateClientError('ERR_SSPI_MUTUAL_AUTH_REQUIRED', `the server sent no final ${scheme} token: it did not prove its identity`);
          }
        } else if (context && this.options.mutualAuthentication && !context.complete) {
          throw new NegotiateClientError('ERR_SSPI_MUTUAL_AUTH_REQUIRED', 'the server did not prove its identity');
        }
        if (context?.complete && lease.connections === connection) lease.authenticated = true;
        break;
      }
      if (state.aborted) throw state.aborted;
      await this.deliver(res, handler, state);
      reusable = true;
    } finally {
      context?.dispose();
      this.release(origin, lease, reusable);
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

