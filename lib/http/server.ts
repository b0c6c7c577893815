/**
 * Integrated Windows authentication for Node HTTP servers: the server side of RFC 4559
 * (`WWW-Authenticate: Negotiate`) and of the NTLM HTTP scheme, over SSPI's AcceptSecurityContext.
 *
 * Framework-neutral: {@link IntegratedAuthenticator.authenticate} takes Node's
 * `IncomingMessage`/`ServerResponse`, so it fits `http.createServer`, Express, Koa (ctx.req/ctx.res)
 * and Fastify (request.raw/reply.raw); {@link IntegratedAuthenticator.middleware} is the
 * connect/Express form.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

import { ASC_REQ, SECPKG_NEGOTIATION } from '../constants';
import { ServerContext, StepResult } from '../context';
import { Credentials } from '../credentials';
import { SspiError } from '../errors';

/** HTTP authentication schemes offered: RFC 4559's Negotiate and Microsoft's NTLM. */
export type HttpAuthScheme = 'Negotiate' | 'NTLM';

/** The SSPI package behind each HTTP scheme. */
const PACKAGE_OF: Record<HttpAuthScheme, string> = { Negotiate: 'Negotiate', NTLM: 'NTLM' };

export interface IntegratedAuthOptions {
  /** Schemes offered in `WWW-Authenticate`, in order of preference. Default ['Negotiate', 'NTLM']. */
  schemes?: HttpAuthScheme[];
  /**
   * Inbound credentials per scheme. Default: acquired on first use for the process's own identity
   * (the service account; with MIT-style Kerberos, the keytab KRB5_KTNAME names), and disposed by
   * {@link IntegratedAuthenticator.close}. Credentials passed here are the caller's to dispose.
   */
  credentials?: Partial<Record<HttpAuthScheme, Credentials>>;
  /**
   * fContextReq for AcceptSecurityContext (ASC_REQ_* bits). Default ASC_REQ_CONNECTION only: HTTP
   * authentication proves who is at the other end and never signs or seals messages, so asking for
   * integrity or confidentiality would only refuse clients that do not offer them (curl's NTLM does
   * not negotiate signing).
   */
  contextReq?: number;
  /**
   * Keep a TCP connection authenticated once a handshake succeeded, so later requests on it need no
   * `Authorization` header (the connection-based model NTLM clients expect, like IIS). Default false:
   * every request must authenticate. Only enable when no proxy shares connections between users.
   */
  persistOnConnection?: boolean;
  /** Largest accepted token, in bytes after base64 decoding. Default 64 KiB. */
  maxTokenBytes?: number;
  /** Receives one event per handshake step; never given tokens or passwords. */
  onEvent?: (event: AuthEvent) => void;
}

/** What authenticate() reports through `onEvent`. */
export interface AuthEvent {
  type: 'challenge' | 'continue' | 'authenticated' | 'rejected';
  scheme?: HttpAuthScheme;
  remoteAddress?: string;
  /** For 'rejected': the SEC_E_* name or a short reason. */
  reason?: string;
  /** For 'authenticated'. */
  identity?: AuthenticatedIdentity;
}

/** The authenticated client, as the server's security context reports it. */
export interface AuthenticatedIdentity {
  /** The HTTP scheme the client used. */
  scheme: HttpAuthScheme;
  /**
   * The SSPI package that authenticated: for Negotiate, the one it chose ('Kerberos' or 'NTLM', from
   * SECPKG_ATTR_NEGOTIATION_INFO); null if the package did not say.
   */
  package: string | null;
  /**
   * The client's account ('DOMAIN\\user') from SECPKG_ATTR_NAMES, or null when secur32 does not
   * report it; `userNotReported` then says why (Wine's secur32 answers SEC_E_UNSUPPORTED_FUNCTION).
   */
  user: string | null;
  userNotReported?: { code: string; status: number };
  /** ASC_RET_* bits of the established context. */
  contextAttr: number;
  /** The established server context; disposed when the response ends (or the connection closes). */
  context: ServerContext;
}

interface ConnectionState {
  scheme: HttpAuthScheme;
  context: ServerContext;
  identity?: AuthenticatedIdentity;
}

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * True for a token that starts a handshake: an NTLM NEGOTIATE_MESSAGE (type 1), or a GSS-API
 * InitialContextToken (DER [APPLICATION 0], 0x60) such as SPNEGO's NegTokenInit. Anything else
 * (NegTokenResp 0xA1, NTLM AUTHENTICATE_MESSAGE) continues the connection's pending handshake.
 */
function isInitialToken(token: Buffer): boolean {
  if (token.length >= 12 && token.subarray(0, 8).equals(NTLMSSP)) return token.readUInt32LE(8) === 1;
  return token[0] === 0x60;
}

/**
 * Authenticates HTTP requests with Negotiate (Kerberos or NTLM, RFC 4559) and NTLM.
 *
 * Multi-leg handshakes are kept per TCP connection (a context lives on the socket until it
 * completes, fails or the socket closes); never keyed by anything the client sends.
 *
 * ```ts
 * const auth = new IntegratedAuthenticator();
 * http.createServer(async (req, res) => {
 *   const id = await auth.authenticate(req, res);
 *   if (!id) return;                       // a 401 has been sent
 *   res.end(`hello ${id.user ?? '(name not reported)'}`);
 * });
 * ```
 */
export class IntegratedAuthenticator {
  private readonly schemes: HttpAuthScheme[];
  private readonly contextReq: number;
  private readonly persist: boolean;
  private readonly maxTokenBytes: number;
  private readonly onEvent: ((e: AuthEvent) => void) | undefined;
  private readonly given: Partial<Record<HttpAuthScheme, Credentials>>;
  private readonly acquired = new Map<HttpAuthScheme, Promise<Credentials>>();
  private readonly connections = new WeakMap<Socket, ConnectionState>();
  private readonly live = new Set<ConnectionState>();
  private readonly watched = new WeakSet<Socket>();
  private readonly queues = new WeakMap<Socket, Promise<void>>();
  private closed = false;

  /** @throws TypeError for an unknown scheme or options of the wrong type. */
  constructor(options: IntegratedAuthOptions = {}) {
    this.schemes = options.schemes ?? ['Negotiate', 'NTLM'];
    if (!Array.isArray(this.schemes) || this.schemes.length === 0 || this.schemes.some((s) => !(s in PACKAGE_OF))) {
      throw new TypeError("schemes must be a non-empty array of 'Negotiate' and/or 'NTLM'");
    }
    this.contextReq = options.contextReq ?? ASC_REQ.CONNECTION;
    this.persist = options.persistOnConnection ?? false;
    this.maxTokenBytes = options.maxTokenBytes ?? 64 * 1024;
    this.onEvent = options.onEvent;
    this.given = options.credentials ?? {};
  }

  /**
   * Authenticates one request. Resolves with the identity when the handshake is complete (the
   * mutual-auth token, if any, is already set as `WWW-Authenticate` on `res`); otherwise it has
   * answered the request with 401 (a challenge, or the next handshake token) and resolves undefined.
   *
   * Calls [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) (via
   * {@link ServerContext.step}), [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw)
   * (SECPKG_ATTR_NAMES, SECPKG_ATTR_NEGOTIATION_INFO) and, once the response ends or the connection
   * closes, DeleteSecurityContext; the first request per scheme also acquires the server's inbound
   * credentials (AcquireCredentialsHandleW). The returned identity's `context` is owned by the
   * authenticator: do not dispose it, and do not use it after the response.
   * @param req - the request; its `Authorization` header and its socket (the handshake's key).
   * @param res - the response; written to (401) when the request is not yet authenticated.
   * @rejects Error when the server's own credentials cannot be acquired (SspiError from
   *   AcquireCredentialsHandle, e.g. SEC_E_NO_CREDENTIALS) or after close(). A client's bad token or
   *   wrong password is not an error: it gets 401.
   */
  async authenticate(req: IncomingMessage, res: ServerResponse): Promise<AuthenticatedIdentity | undefined> {
    if (this.closed) throw new Error('IntegratedAuthenticator is closed');
    // Pipelined requests on one connection share its handshake; an SSPI context takes one call at
    // a time, so they are authenticated in arrival order.
    const socket = req.socket;
    const before = this.queues.get(socket) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => { release = resolve; });
    const turn = before.then(() => mine);
    this.queues.set(socket, turn);
    await before;
    try {
      return await this.authenticateInTurn(req, res);
    } finally {
      release();
      if (this.queues.get(socket) === turn) this.queues.delete(socket);
    }
  }

  private async authenticateInTurn(req: IncomingMessage, res: ServerResponse): Promise<AuthenticatedIdentity | undefined> {
    const socket = req.socket;
    const header = req.headers.authorization;
    const state = this.connections.get(socket);

    if (!header) {
      if (this.persist && state?.identity) return state.identity;
      this.challenge(req, res, undefined);
      return undefined;
    }

    const space = header.indexOf(' ');
    const schemeText = space > 0 ? header.slice(0, space) : header;
    const scheme = this.schemes.find((s) => s.toLowerCase() === schemeText.toLowerCase());
    const b64 = space > 0 ? header.slice(space + 1).trim() : '';
    if (!scheme || !BASE64.test(b64)) {
      this.challenge(req, res, scheme ? 'malformed token' : 'scheme not offered');
      return undefined;
    }
    const token = Buffer.from(b64, 'base64');
    if (token.length === 0 || token.length > this.maxTokenBytes) {
      this.challenge(req, res, 'token size');
      return undefined;
    }

    let context: ServerContext;
    if (state && state.scheme === scheme && !state.context.complete && !isInitialToken(token)) {
      context = state.context; // the next leg of this connection's handshake
    } else {
      if (state) this.discard(socket, state.context);
      context = new ServerContext(await this.credentialsFor(scheme), { contextReq: this.contextReq });
    }

    let result: StepResult;
    try {
      result = await context.step(token);
    } catch (e) {
      this.discard(socket, context);
      if (!(e instanceof SspiError)) throw e;
      this.challenge(req, res, e.code);
      return undefined;
    }

    if (!result.complete) {
      this.remember(socket, { scheme, context });
      this.emit({ type: 'continue', scheme, remoteAddress: socket.remoteAddress });
      this.send401(res, [`${scheme} ${result.token?.toString('base64') ?? ''}`.trim()]);
      return undefined;
    }

    // RFC 4559 section 5: the final token (Kerberos AP-REP, mutual authentication) travels in the
    // WWW-Authenticate header of the successful response.
    if (result.token) res.setHeader('WWW-Authenticate', `${scheme} ${result.token.toString('base64')}`);
    const identity = this.identityOf(scheme, context, result);
    if (this.persist) {
      this.remember(socket, { scheme, context, identity });
    } else {
      this.detach(socket, context);
      const release = (): void => context.dispose();
      res.once('finish', release);
      res.once('close', release);
    }
    this.emit({ type: 'authenticated', scheme, remoteAddress: socket.remoteAddress, identity });
    return identity;
  }

  /**
   * connect/Express middleware: sets `req.sspi` to the {@link AuthenticatedIdentity} and calls
   * next(), or answers 401. Errors (the server's own credentials) go to next(err).
   */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
    return (req, res, next) => {
      this.authenticate(req, res).then((id) => {
        if (id) {
          (req as IncomingMessage & { sspi?: AuthenticatedIdentity }).sspi = id;
          next();
        }
      }, next);
    };
  }

  /**
   * Disposes every context still held for a connection (DeleteSecurityContext) and the credentials
   * this authenticator acquired itself (FreeCredentialsHandle); credentials passed in options stay
   * the caller's. Later authenticate() calls reject.
   * @rejects SspiError if DeleteSecurityContext / FreeCredentialsHandle fail (SEC_E_INVALID_HANDLE).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.live) s.context.dispose();
    this.live.clear();
    const creds = await Promise.allSettled(this.acquired.values());
    for (const c of creds) if (c.status === 'fulfilled') c.value.dispose();
    this.acquired.clear();
  }

  private credentialsFor(scheme: HttpAuthScheme): Promise<Credentials> {
    const given = this.given[scheme];
    if (given) return Promise.resolve(given);
    let p = this.acquired.get(scheme);
    if (!p) {
      p = Credentials.acquire({ package: PACKAGE_OF[scheme], use: 'inbound' });
      p.catch(() => this.acquired.delete(scheme)); // retry on the next request
      this.acquired.set(scheme, p);
    }
    return p;
  }

  private identityOf(scheme: HttpAuthScheme, context: ServerContext, result: StepResult): AuthenticatedIdentity {
    let pkg: string | null = scheme === 'NTLM' ? 'NTLM' : null;
    if (scheme === 'Negotiate') {
      try {
        const info = context.negotiationInfo();
        if (info.NegotiationState === SECPKG_NEGOTIATION.COMPLETE || info.PackageInfo) pkg = info.PackageInfo?.Name ?? null;
      } catch (e) {
        if (!(e instanceof SspiError)) throw e;
      }
    }
    const identity: AuthenticatedIdentity = { scheme, package: pkg, user: null, contextAttr: result.contextAttr, context };
    try {
      identity.user = context.userName();
    } catch (e) {
      if (!(e instanceof SspiError)) throw e;
      identity.userNotReported = { code: e.code, status: e.status };
    }
    return identity;
  }

  private remember(socket: Socket, state: ConnectionState): void {
    this.connections.set(socket, state);
    this.live.add(state);
    if (!this.watched.has(socket)) {
      // One listener per socket, however many handshakes its requests run.
      this.watched.add(socket);
      socket.once('close', () => {
        const s = this.connections.get(socket);
        if (s) this.discard(socket, s.context);
      });
    }
  }

  /** Removes the connection's state if it holds `context`; the context itself lives on. */
  private detach(socket: Socket, context: ServerContext): void {
    const s = this.connections.get(socket);
    if (s && s.context === context) {
      this.connections.delete(socket);
      this.live.delete(s);
    }
  }

  /** Detaches `context` from the connection and disposes it. */
  private discard(socket: Socket, context: ServerContext): void {
    this.detach(socket, context);
    context.dispose();
  }

  private challenge(req: IncomingMessage, res: ServerResponse, reason: string | undefined): void {
    this.emit(reason
      ? { type: 'rejected', remoteAddress: req.socket.remoteAddress, reason }
      : { type: 'challenge', remoteAddress: req.socket.remoteAddress });
    this.send401(res, this.schemes.slice());
  }

  private send401(res: ServerResponse, wwwAuthenticate: string[]): void {
    res.statusCode = 401;
    res.setHeader('WWW-Authenticate', wwwAuthenticate);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('401 Unauthorized\n');
  }

  private emit(e: AuthEvent): void {
    if (this.onEvent) this.onEvent(e);
  }
}
