/**
 * Integrated Windows authentication for Node HTTP servers: the server side of RFC 4559
 * (`WWW-Authenticate: Negotiate`) and of the NTLM HTTP scheme, over SSPI's AcceptSecurityContext.
 *
 * Framework-neutral: {@link IntegratedAuthenticator.authenticate} takes Node's
 * `IncomingMessage`/`ServerResponse`, so it fits `http.createServer`, Express, Koa (ctx.req/ctx.res)
 * and Fastify (request.raw/reply.raw); {@link IntegratedAuthenticator.middleware} is the
 * connect/Express form.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { constants as http2Constants } from 'node:http2';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';

import { contextNativeNames } from '../attributes';
import { serverChannelBindings } from '../bindings';
import { ASC_REQ, ASC_RET, SECPKG_NEGOTIATION, SECURITY_STATUS } from '../constants';
import { ContextRequirements, parseRequirements, ServerContext, ServerContextOptions, StepResult } from '../context';
import { Credentials } from '../credentials';
import { RequirementError, SspiError } from '../errors';
import { flags, maskOf, own as ownProperty } from '../options';
import { TlsSocket } from '../tls/socket';
import { AccessToken, guestOrAnonymous, TokenGroup, WELL_KNOWN_SID } from '../token';
import { fitsScheme, inspectToken } from './framing';

/**
 * The channel bindings of a request's TLS connection: this library's TlsSocket (an HTTPS server fed
 * TlsSockets) answers from Schannel (SECPKG_ATTR_ENDPOINT_BINDINGS, see TlsSocket.getChannelBindings);
 * a Node TLSSocket's are computed from its own certificate (serverChannelBindings); plain HTTP has none.
 */
function requestChannelBindings(socket: unknown): Buffer | undefined {
  if (socket instanceof TlsSocket) return socket.getChannelBindings();
  return serverChannelBindings(socket);
}

/** HTTP authentication schemes offered: RFC 4559's Negotiate and Microsoft's NTLM. */
export type HttpAuthScheme = 'Negotiate' | 'NTLM';

/** The SSPI package behind each HTTP scheme. */
const PACKAGE_OF: Readonly<Record<HttpAuthScheme, string>> = Object.freeze({ __proto__: null, Negotiate: 'Negotiate', NTLM: 'NTLM' } as Record<HttpAuthScheme, string>);

/**
 * Makes the server context for one handshake. The default is `new ServerContext(credentials, options)`;
 * a factory may return a subclass (instrumentation, a context that records its steps) but must return
 * a {@link ServerContext}, which the authenticator then owns: it calls its `step()` for every leg,
 * and disposes it (DeleteSecurityContext) when the handshake fails, times out, or the connection or
 * response using it ends.
 * @param credentials - the inbound credentials of the scheme (from `options.credentials` or acquired).
 * @param options - `contextReq`: the ASC_REQ_* bits of {@link IntegratedAuthOptions.contextReq}; `requirements`: {@link IntegratedAuthOptions.requirements};
 *   `channelBindings`: the SEC_CHANNEL_BINDINGS of the request's TLS connection when
 *   {@link IntegratedAuthOptions.channelBindings} asks for them (absent otherwise).
 * @param scheme - the HTTP scheme the client used.
 */
export type ServerContextFactory = (credentials: Credentials, options: ServerContextOptions, scheme: HttpAuthScheme) => ServerContext;

/** Default {@link IntegratedAuthOptions.maxPendingHandshakes}: unfinished handshakes held at once, server-wide. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = 256;
/** Default {@link IntegratedAuthOptions.maxPendingHandshakesPerAddress}: unfinished handshakes held at once per client IP address. */
export const DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS = 32;
/** Default {@link IntegratedAuthOptions.handshakeTimeout}, in milliseconds. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** Default {@link IntegratedAuthOptions.maxTokenBytes}, in bytes. */
export const DEFAULT_MAX_TOKEN_BYTES = 64 * 1024;
/** `Retry-After` of a 503 answer (over a cap, or the SSPI call queue full), in seconds (RFC 9110 section 10.2.3). */
export const RETRY_AFTER_SECONDS = 2;

/** Options of {@link IntegratedAuthenticator}: every field is optional; the defaults are the safe ones. */
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
   * fContextReq for AcceptSecurityContext (ASC_REQ_* bits, an unsigned 32-bit integer). Default
   * ASC_REQ_CONNECTION only: HTTP authentication proves who is at the other end and never signs or
   * seals messages, so asking for integrity or confidentiality would only refuse clients that do not
   * offer them (curl's NTLM does not negotiate signing).
   */
  contextReq?: number;
  /**
   * Channel bindings (RFC 5929, "Extended Protection for Authentication") for requests over TLS:
   * 'tls-server-end-point' passes the hash of the server's own certificate on the request's
   * connection (`req.socket.getCertificate()`, see serverChannelBindings in lib/bindings.ts; for this
   * library's TlsSocket, its SECPKG_ATTR_ENDPOINT_BINDINGS: TlsSocket.getChannelBindings) to
   * every AcceptSecurityContext of the handshake as SECBUFFER_CHANNEL_BINDINGS, so a token relayed
   * from another TLS connection (a man in the middle with another certificate) fails with
   * SEC_E_BAD_BINDINGS. Requests over plain HTTP get none. Default false: no bindings. (Wine's
   * Kerberos and NTLM ignore them.)
   *
   * An alias kept for the first versions' callers: 'tls-server-end-point' is
   * `extendedProtection: 'always'` (the same AcceptSecurityContext call as before: bindings, without
   * ASC_REQ_ALLOW_MISSING_BINDINGS, so a client that sends none is refused too), or
   * 'whenSupported' when `contextReq` has ASC_REQ_ALLOW_MISSING_BINDINGS (again the same call as
   * before); false is `extendedProtection: 'off'`. Giving both options is a TypeError. Prefer
   * {@link IntegratedAuthOptions.extendedProtection}.
   */
  channelBindings?: 'tls-server-end-point' | false;
  /**
   * Extended Protection for Authentication (channel binding, RFC 5929 tls-server-end-point) for
   * requests over TLS, the policy .NET calls ExtendedProtectionPolicy.PolicyEnforcement
   * (Never / WhenSupported / Always,
   * https://learn.microsoft.com/en-us/dotnet/api/system.security.authentication.extendedprotection.policyenforcement):
   *
   * - 'off' (default): no channel bindings are passed; the server checks none.
   * - 'whenSupported': the hash of the server's own certificate on the request's connection goes to
   *   every AcceptSecurityContext of the handshake as a SECBUFFER_CHANNEL_BINDINGS buffer, with
   *   ASC_REQ_ALLOW_MISSING_BINDINGS in fContextReq: a client that sends bindings must send the
   *   right ones (else SEC_E_BAD_BINDINGS, 401), a client that sends none (an old one) is still
   *   accepted (SEC_CHANNEL_BINDINGS_RESULT_VALID_MISSING, "the client is permitted to have missing
   *   bindings, as allowed by the ASC_REQ_ALLOW_MISSING_BINDINGS flag",
   *   https://learn.microsoft.com/en-us/windows-hardware/drivers/ddi/ntifs/ns-ntifs-sec_channel_bindings_result).
   * - 'always': the same bindings without ASC_REQ_ALLOW_MISSING_BINDINGS: Microsoft's packages then
   *   treat missing bindings as invalid (SEC_CHANNEL_BINDINGS_RESULT_NOTVALID_MISSING, same page), so
   *   a client that sends none fails like one that sends wrong ones (SEC_E_BAD_BINDINGS, 0x80090346
   *   in winerror.h: 401). Use it when every client binds (Windows since 7 / 2008 R2, this library's
   *   NegotiateAgent, curl with SSPI).
   *
   * Over plain HTTP there is no channel to bind to: no bindings are passed and no flag is added,
   * whatever the policy ('always' included: there is nothing a client could bind to, so nothing to
   * require). A server that must refuse unprotected requests should not listen on plain HTTP.
   * `contextReq` containing ASC_REQ_ALLOW_MISSING_BINDINGS together with 'always' is a TypeError.
   * Wine's Kerberos and NTLM ignore channel bindings entirely (test/unit/bindings.test.ts measures
   * it): there every policy accepts every client.
   */
  extendedProtection?: ExtendedProtection;
  /**
   * HTTP authentication schemes left to another middleware: a request whose `Authorization` (in
   * proxy mode, `Proxy-Authorization`) header uses one of them (compared case-insensitively, RFC 9110
   * section 11.1) is passed on unauthenticated by {@link IntegratedAuthenticator.exempt}: the
   * middleware and the adapters call next() without an identity (`req.sspi` unset), no 401, no SSPI
   * call, and the header's value is neither checked nor logged (the other middleware judges it,
   * malformed or not). A non-empty array of distinct 'Bearer' (RFC 6750) and/or 'Basic' (RFC 7617).
   * Default: none (such a request gets the 401 challenge). An NTLM identity persisted on the
   * connection is not given to such a request.
   */
  passThroughSchemes?: PassThroughScheme[];
  /**
   * Extra challenges appended, in order, to every 401 (407) challenge after this server's own
   * schemes, e.g. `['Bearer realm="api"']`, so that clients learn the pass-through schemes exist
   * (RFC 9110 section 11.6.1 allows several challenges). Each must start with one of
   * {@link IntegratedAuthOptions.passThroughSchemes} (that option is required) and contain no
   * control characters. Default: none: the challenge lists Negotiate/NTLM only.
   */
  passThroughChallenges?: string[];
  /**
   * The form of {@link AuthenticatedIdentity.principal} (see {@link PrincipalFormat}). Default
   * 'samCompatible'.
   */
  principalFormat?: PrincipalFormat;
  /**
   * Group SIDs ('S-1-5-32-544', 'S-1-5-21-...-1105'; SID strings only: a 'DOMAIN\\Group' name would
   * need a domain controller to resolve, per request or cached, and SIDs are stable where names are
   * not): an authenticated client must have at least one of them as an enabled, not deny-only group
   * of its access token (QuerySecurityContextToken + GetTokenInformation(TokenGroups); no domain
   * controller round trip). A client in none gets 403 Forbidden (it is authenticated, but not
   * allowed), event 'rejected' with `status` 403 and reason 'not in a required group'.
   *
   * Fails closed: where the token cannot be read (Wine's secur32 answers SEC_E_UNSUPPORTED_FUNCTION
   * to QuerySecurityContextToken) no one is let in: 500 Internal Server Error, with reason 'group membership not available: SEC_E_...'. 500 rather than 403: the client was
   * not judged, the server cannot apply its own policy (a platform limit or a misconfiguration).
   * The event is 'rejected' with `status` 500.
   *
   * A SID string or a non-empty array of them; anything else is a TypeError at construction.
   * Default: no group check.
   */
  requireGroup?: string | string[];
  /**
   * Proxy authentication (RFC 7235 section 4.3/4.4, RFC 4559) for a Node forward proxy: challenges
   * are 407 Proxy Authentication Required with `Proxy-Authenticate`, tokens are read from
   * `Proxy-Authorization` (the `Authorization` header then belongs to the origin server and is not
   * looked at), and the final token (a Kerberos AP-REP) goes back in `Proxy-Authenticate` of the
   * successful response. Requests in absolute-form go through {@link IntegratedAuthenticator.authenticate}
   * / the middleware as usual; CONNECT requests (node:http's 'connect' event) through
   * {@link IntegratedAuthenticator.authenticateConnect}. Connection persistence is the same as for a
   * server (NTLM's legs on one client connection). The proxy should remove `Proxy-Authorization`
   * before forwarding a request (it is hop-by-hop in practice: the credentials are the proxy's).
   * Default false. In proxy mode `corsPreflight` defaults to false (a preflight through a proxy
   * still needs the proxy's authentication).
   */
  proxy?: boolean;
  /**
   * Keep a TCP connection authenticated once an NTLM handshake succeeded (the NTLM scheme, or
   * Negotiate that chose NTLM): later requests on it without `Authorization` get the same identity,
   * the connection-based model NTLM clients expect (browsers send NTLM's three legs once per
   * connection, like IIS and ASP.NET Core's Negotiate handler, PersistNtlmCredentials). A request
   * with a new `Authorization` header starts a new handshake and forgets the old identity, also
   * when the new one fails. Default true.
   *
   * WARNING: only when nothing between the clients and this server shares a connection between
   * users: a reverse proxy or load balancer that pools its upstream connections would pass one
   * user's persisted identity to another user's requests. Behind such a proxy set both
   * `persistNtlm` and `persistKerberos` to false (or terminate authentication at the proxy).
   */
  persistNtlm?: boolean;
  /**
   * The same for Kerberos (and any other package Negotiate reports): default false, every request
   * authenticates (Kerberos needs one leg; ASP.NET Core's PersistKerberosCredentials default). See
   * the warning at {@link IntegratedAuthOptions.persistNtlm}.
   */
  persistKerberos?: boolean;
  /**
   * Sets the default of both {@link IntegratedAuthOptions.persistNtlm} and
   * {@link IntegratedAuthOptions.persistKerberos} (each still wins when given). Kept for the first
   * versions' callers; without it the defaults are NTLM persisted, Kerberos not.
   */
  persistOnConnection?: boolean;
  /** Largest accepted token, in bytes after base64 decoding: an integer from 1 to 2^30. Default 65,536 (64 KiB). */
  maxTokenBytes?: number;
  /**
   * Accept anonymous logons: a context AcceptSecurityContext established with ASC_RET_NULL_SESSION
   * (an NTLM AUTHENTICATE_MESSAGE with an empty user name and empty responses, [MS-NLMP] 3.2.5.1.2),
   * which Microsoft's NTLM accepts even when ASC_REQ_ALLOW_NULL_SESSION was not asked for. Default
   * false: such a request gets 401 like a wrong password. When true, the identity says `anonymous: true`.
   */
  allowAnonymous?: boolean;
  /**
   * Most unfinished handshakes at once, server-wide: contexts from their first token until they
   * complete (an NTLM handshake between its CHALLENGE and the client's AUTHENTICATE, say). A request
   * that would hold one more gets 503 with `Retry-After`: an NTLM NEGOTIATE_MESSAGE before any SSPI
   * call, another first token once AcceptSecurityContext asks to continue. A handshake that completes
   * in one leg (Kerberos) is never held, so this cap never refuses it. A positive integer, or
   * Infinity for no cap. Default 256.
   */
  maxPendingHandshakes?: number;
  /**
   * Most unfinished handshakes held at once for one client IP address (the socket's remoteAddress;
   * behind a reverse proxy, the proxy's). Same rules as {@link IntegratedAuthOptions.maxPendingHandshakes}.
   * Default 32: a browser opens at most 6 connections per host, so this leaves room for several users
   * behind one NAT address while one address cannot take the whole server-wide allowance.
   */
  maxPendingHandshakesPerAddress?: number;
  /**
   * Time a handshake has to complete, in milliseconds, from its first token: an unfinished context
   * older than this is deleted (DeleteSecurityContext), and the client's late token gets a fresh 401.
   * An integer from 1 to 2,147,483,647 (setTimeout's limit). Default 30,000 (30 s): real clients send
   * each leg at once, so this only bounds how long an idle half-open handshake holds its context.
   */
  handshakeTimeout?: number;
  /**
   * Makes each handshake's server context; see {@link ServerContextFactory}. Default
   * `(credentials, options) => new ServerContext(credentials, options)`.
   */
  createContext?: ServerContextFactory;
  /** Receives one event per handshake step; never given tokens or passwords. */
  onEvent?: (event: AuthEvent) => void;
  /**
   * SSPI packages a client may authenticate with: a non-empty array of 'Kerberos' and/or 'NTLM'.
   * Default both. Without 'NTLM', the NTLM scheme is not offered (nor accepted), and inside
   * Negotiate an NTLM handshake is refused with 401: a raw NTLMSSP token before any SSPI call, a
   * SPNEGO one as soon as Negotiate reports NTLM (SECPKG_ATTR_NEGOTIATION_INFO after a leg), and at
   * the latest when the context completes: a completed context whose package is not allowed, or not
   * reported, is deleted and refused (fail closed).
   */
  packages?: AuthPackage[];
  /**
   * What a completed context must have achieved, checked after the last AcceptSecurityContext
   * (.NET NegotiateAuthentication's RequiredProtectionLevel / RequiredImpersonationLevel; see
   * {@link ContextRequirements}): `protectionLevel` 'sign' needs ASC_RET_INTEGRITY, 'encryptAndSign'
   * also ASC_RET_CONFIDENTIALITY (their ASC_REQ_* bits are added to `contextReq`); `impersonationLevel`
   * 'impersonate' refuses ASC_RET_IDENTIFY, 'delegate' needs ASC_RET_DELEGATE. A context that falls
   * short is deleted and the request gets 401, its event's reason the RequirementError's code
   * (ERR_SSPI_PROTECTION_REQUIRED, ERR_SSPI_IMPERSONATION_LEVEL). `mutualAuthentication` is the
   * client's requirement and `allowedPackages` is {@link IntegratedAuthOptions.packages}: both are a
   * TypeError here. Default: none.
   */
  requirements?: Pick<ContextRequirements, 'protectionLevel' | 'impersonationLevel'>;
  /**
   * Requests that pass unauthenticated (see {@link IntegratedAuthenticator.exempt}): an array of
   * paths (compared exactly with the request path without its query, e.g. '/health'), or a
   * predicate on the request. Default: none.
   */
  skip?: string[] | ((req: IncomingMessage) => boolean);
  /**
   * Pass CORS preflight requests (`OPTIONS` with an `Access-Control-Request-Method` header)
   * unauthenticated ({@link IntegratedAuthenticator.exempt}): browsers send preflights without
   * credentials (Fetch standard, CORS-preflight request), so a 401 would fail every cross-origin
   * call. Default true.
   */
  corsPreflight?: boolean;
}

/** The SSPI packages {@link IntegratedAuthOptions.packages} can allow. */
export type AuthPackage = 'Kerberos' | 'NTLM';

/** {@link IntegratedAuthOptions.extendedProtection}: .NET's PolicyEnforcement Never / WhenSupported / Always. */
export type ExtendedProtection = 'off' | 'whenSupported' | 'always';

/** {@link IntegratedAuthOptions.passThroughSchemes}: schemes another middleware handles. */
export type PassThroughScheme = 'Bearer' | 'Basic';

/**
 * {@link IntegratedAuthOptions.principalFormat}, named after GetUserNameEx's EXTENDED_NAME_FORMAT
 * (https://learn.microsoft.com/en-us/windows/win32/api/secext/ne-secext-extended_name_format):
 * - 'samCompatible': 'DOMAIN\\user' (NameSamCompatible), from SECPKG_ATTR_NAMES: the same as
 *   {@link AuthenticatedIdentity.user};
 * - 'upn': 'user@REALM' (NameUserPrincipal's form), the Kerberos client principal name from
 *   SECPKG_ATTR_NATIVE_NAMES (sClientName) of a Kerberos logon. It equals the UPN when the account
 *   uses its realm's default UPN suffix; an alternative UPN suffix is not visible to the server
 *   without a directory lookup, which this library does not make. NTLM carries no principal name:
 *   null for an NTLM logon (`principalNotReported.reason` says so);
 * - 'sid': the user's SID string, from the access token (QuerySecurityContextToken +
 *   TokenUser): the same as {@link AuthenticatedIdentity.sid}.
 */
export type PrincipalFormat = 'samCompatible' | 'upn' | 'sid';

/** What authenticate() reports through `onEvent`. */
export interface AuthEvent {
  /**
   * 'challenge': 401 with the offered schemes (no Authorization header); 'continue': 401 with the
   * next handshake token; 'authenticated'; 'rejected': 401 (or, over HTTP/2, the stream reset with
   * HTTP_1_1_REQUIRED); 'unavailable': 503 (a cap on pending handshakes, or the SSPI call queue, is
   * full); 'expired': a handshake timed out and its context was deleted (no response is involved).
   * In proxy mode the 401s are 407s. A 'rejected' event with `status` 403 or 500 is `requireGroup`'s:
   * see {@link AuthEvent.status}.
   */
  type: 'challenge' | 'continue' | 'authenticated' | 'rejected' | 'unavailable' | 'expired';
  /**
   * For 'rejected' by `requireGroup` only: 403 (the client authenticated but is in none of the
   * groups, reason 'not in a required group') or 500 (its groups could not be read, reason
   * 'group membership not available: SEC_E_...'). Absent for the 401 (407) rejections.
   */
  status?: 403 | 500;
  /** The HTTP scheme of the request's Authorization (Proxy-Authorization), when it had one. */
  scheme?: HttpAuthScheme;
  /** The client's IP address (the request socket's remoteAddress). */
  remoteAddress?: string;
  /**
   * For 'rejected' and 'unavailable': the SEC_E_* name or a short reason ('malformed token',
   * 'ASC_RET_NULL_SESSION', 'ANONYMOUS LOGON', 'Guest account',
   * 'Guests group', 'HTTP_1_1_REQUIRED', 'pending handshakes', 'ERR_SSPI_QUEUE_FULL', ...).
   */
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
  /** Why `user` is null: the status (and its SEC_E_* name) of the query that failed. */
  userNotReported?: { code: string; status: number };
  /**
   * The client's user SID ('S-1-5-21-...-1104') from its access token (QuerySecurityContextToken +
   * GetTokenInformation(TokenUser); no domain controller is asked), or null when the token cannot be
   * read; `sidNotReported` then says why (Wine's secur32 answers SEC_E_UNSUPPORTED_FUNCTION).
   */
  sid: string | null;
  /** Why `sid` is null: the status (and its name) of the call that failed. */
  sidNotReported?: { code: string; status: number };
  /**
   * The client in the form {@link IntegratedAuthOptions.principalFormat} asks for
   * ({@link PrincipalFormat}: 'DOMAIN\\user', 'user@REALM' or a SID string), or null when secur32 does
   * not report it; `principalNotReported` then says why: the failing call's SEC_E_* `code` and
   * `status` (Wine: SEC_E_UNSUPPORTED_FUNCTION for each of them), or only a `reason` (an NTLM logon
   * has no 'upn').
   */
  principal: string | null;
  /** Why `principal` is null: a reason, with the status (and its name) when a call failed. */
  principalNotReported?: { reason: string; code?: string; status?: number };
  /** ASC_RET_* bits of the established context. */
  contextAttr: number;
  /** True for an anonymous logon (ASC_RET_NULL_SESSION); only ever true with `allowAnonymous`. */
  anonymous: boolean;
  /**
   * The established server context; disposed once no connection holds it and every response that
   * was given this identity has ended.
   */
  context: ServerContext;
}

/** What {@link IntegratedAuthenticator.authenticateConnect} resolves with once a CONNECT is authenticated. */
export interface ConnectAuthentication {
  /** The authenticated client. */
  identity: AuthenticatedIdentity;
  /**
   * Header fields for the caller's `200 Connection Established`: the final handshake token
   * (`Proxy-Authenticate: Negotiate <base64>`, RFC 4559 section 5), or none.
   */
  headers: Record<string, string>;
}

/** Counts {@link IntegratedAuthenticator.stats} reports. */
export interface AuthStats {
  /**
   * Unfinished handshakes: from the first token's AcceptSecurityContext call until the handshake
   * completes, fails, times out or its connection closes; what the caps count.
   */
  pendingHandshakes: number;
  /**
   * Server contexts made and not yet deleted: pending ones, those in an AcceptSecurityContext call,
   * those kept on a connection (persistNtlm, persistKerberos), and those of responses still running.
   */
  contexts: number;
}

/** Why an established context is refused, and the status to answer with. */
interface Refusal {
  status: 401 | 403 | 500;
  reason: string;
}

/** True when an enabled, not deny-only group of the token is one of `required` (upper-case SID strings). */
function inRequiredGroup(groups: readonly TokenGroup[], required: ReadonlySet<string>): boolean {
  return groups.some((g) => g.enabled && !g.denyOnly && required.has(g.sid.toUpperCase()));
}

/** One server context and who still needs it. */
interface Held {
  scheme: HttpAuthScheme;
  context: ServerContext;
  socket: Socket;
  address: string;
  /** Counted in the pending caps: from the first token until the handshake completes or ends. */
  pending: boolean;
  /** The connection (its handshake or its persisted identity) still refers to it. */
  owned: boolean;
  /** An AcceptSecurityContext call on it is running. */
  stepping: boolean;
  /** The handshake timeout fired during a step: delete it once the step returns. */
  expired: boolean;
  /** Responses given its identity that have not ended. */
  uses: number;
  identity?: AuthenticatedIdentity;
  timer?: NodeJS.Timeout;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `NODE_DEBUG=sspi` tracing (util.debuglog, read once when this module loads): one line per leg
 * with the scheme, the package, the status name and the token sizes in bytes, and one per
 * challenge/refusal with its reason. Never a token's bytes, a header's value, a password or a user
 * name: support cases get the shape of a handshake, not its secrets.
 */
const debug = debuglog('sspi');

/** The error `code` of the SSPI call queue when it is full (lib/queue.ts): answered with 503. */
const QUEUE_FULL = 'ERR_SSPI_QUEUE_FULL';

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'schemes', 'credentials', 'contextReq', 'persistOnConnection', 'maxTokenBytes', 'allowAnonymous',
  'maxPendingHandshakes', 'maxPendingHandshakesPerAddress', 'handshakeTimeout', 'createContext', 'onEvent',
  'channelBindings', 'packages', 'requirements', 'skip', 'corsPreflight', 'persistNtlm', 'persistKerberos',
  'extendedProtection', 'passThroughSchemes', 'passThroughChallenges', 'principalFormat', 'requireGroup', 'proxy',
]);

/** A SID string as ConvertStringSidToSid reads it: S-1-<authority>-<sub>..., decimal numbers. */
const SID_STRING = /^S-1-\d{1,13}(-\d{1,10}){1,15}$/i;

const hasOwn = (o: object, key: PropertyKey): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** The own property `key` of `o`, or undefined: inherited properties (Object.prototype's) never count. */
function own(o: object, key: string): unknown {
  return ownProperty(o as Record<string, unknown>, key);
}

const ASC_REQ_MASK = maskOf(ASC_REQ as unknown as Record<string, number>);

function booleanOption(o: object, key: string, fallback: boolean): boolean {
  const v = own(o, key);
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new TypeError(`options.${key} must be a boolean`);
  return v;
}

function integerOption(o: object, key: string, fallback: number, min: number, max: number, infinite = false): number {
  const v = own(o, key);
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new TypeError(`options.${key} must be a number`);
  if (infinite && v === Infinity) return v;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`options.${key} must be an integer from ${min} to ${max}${infinite ? ', or Infinity' : ''}; got ${v}`);
  }
  return v;
}

function functionOption<F>(o: object, key: string): F | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'function') throw new TypeError(`options.${key} must be a function`);
  return v as F;
}

function isHttp2(req: IncomingMessage | Http2ServerRequest): req is Http2ServerRequest {
  return req.httpVersionMajor >= 2 || 'stream' in req;
}

const defaultFactory: ServerContextFactory = (credentials, options) => new ServerContext(credentials, options);

/**
 * Authenticates HTTP requests with Negotiate (Kerberos or NTLM, RFC 4559) and NTLM.
 *
 * Multi-leg handshakes are kept per TCP connection (a context lives on the socket until it
 * completes, fails, times out or the socket closes); never keyed by anything the client sends.
 * Unfinished handshakes are capped server-wide and per client address, and time out.
 *
 * Connection-based authentication needs HTTP/1.x: an HTTP/2 request (Node's `http2` compatibility
 * API, where each stream has its own `req.socket`) gets its stream reset with HTTP_1_1_REQUIRED
 * (0xd, RFC 9113 section 7), as IIS does, and clients retry over HTTP/1.1; see {@link authenticate}.
 *
 * ```ts
 * const auth = new IntegratedAuthenticator();
 * http.createServer(async (req, res) => {
 *   const id = await auth.authenticate(req, res);
 *   if (!id) return;                       // a 401 (or 503) has been sent
 *   res.end(`hello ${id.user ?? '(name not reported)'}`);
 * });
 * ```
 */
export class IntegratedAuthenticator {
  private readonly schemes: HttpAuthScheme[];
  private readonly contextReq: number;
  private readonly extendedProtection: ExtendedProtection;
  private readonly passThrough: ReadonlySet<string>;
  private readonly passThroughChallenges: readonly string[];
  private readonly principalFormat: PrincipalFormat;
  private readonly requireGroup: ReadonlySet<string> | undefined;
  private readonly proxy: boolean;
  /** 'authorization', or 'proxy-authorization' in proxy mode. */
  private readonly requestHeader: 'authorization' | 'proxy-authorization';
  private readonly persistNtlm: boolean;
  private readonly persistKerberos: boolean;
  private readonly maxTokenBytes: number;
  private readonly allowAnonymous: boolean;
  private readonly maxPending: number;
  private readonly maxPendingPerAddress: number;
  private readonly handshakeTimeout: number;
  private readonly createContext: ServerContextFactory;
  private readonly onEvent: ((e: AuthEvent) => void) | undefined;
  private readonly packages: ReadonlySet<string>;
  private readonly requirements: ContextRequirements | undefined;
  private readonly skipPaths: ReadonlySet<string>;
  private readonly skipPredicate: ((req: IncomingMessage) => boolean) | undefined;
  private readonly corsPreflight: boolean;
  private readonly given = new Map<HttpAuthScheme, Credentials>();
  private readonly acquired = new Map<HttpAuthScheme, Promise<Credentials>>();
  /** Each connection's current handshake, or its persisted identity. */
  private readonly connections = new WeakMap<Socket, Held>();
  /** Every context made and not yet deleted. */
  private readonly contexts = new Set<Held>();
  private readonly pendingByAddress = new Map<string, number>();
  private pendingTotal = 0;
  private readonly watched = new WeakSet<Socket>();
  private readonly queues = new WeakMap<Socket, Promise<void>>();
  private closed = false;

  /**
   * @param options - see {@link IntegratedAuthOptions}; only own properties are read.
   * @throws TypeError for options of the wrong type, an unknown option or scheme name, or
   *   credentials that are not {@link Credentials}; RangeError for numbers out of range.
   */
  constructor(options: IntegratedAuthOptions = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError('options must be an object');
    for (const key of Reflect.ownKeys(options)) {
      if (typeof key !== 'string' || !OPTION_NAMES.has(key)) throw new TypeError(`unknown option ${String(key)}`);
    }

    const schemes = own(options, 'schemes') ?? ['Negotiate', 'NTLM'];
    if (!Array.isArray(schemes) || schemes.length === 0
      || schemes.some((s) => typeof s !== 'string' || !hasOwn(PACKAGE_OF, s))
      || new Set(schemes).size !== schemes.length) {
      throw new TypeError("schemes must be a non-empty array of distinct 'Negotiate' and/or 'NTLM'");
    }
    const requirements = own(options, 'requirements');
    if (requirements !== undefined) {
      if (requirements !== null && typeof requirements === 'object'
        && ('mutualAuthentication' in requirements || 'allowedPackages' in requirements)) {
        throw new TypeError('options.requirements: mutualAuthentication is a client requirement and allowedPackages is options.packages');
      }
      this.requirements = parseRequirements(requirements, 'ASC_REQ');
    }
    const packages = own(options, 'packages') ?? ['Kerberos', 'NTLM'];
    if (!Array.isArray(packages) || packages.length === 0 || packages.some((p) => p !== 'Kerberos' && p !== 'NTLM')) {
      throw new TypeError("options.packages must be a non-empty array of 'Kerberos' and/or 'NTLM'");
    }
    this.packages = new Set(packages as string[]);
    // The NTLM scheme is NTLM: not offered when NTLM is not allowed.
    this.schemes = (schemes as HttpAuthScheme[]).filter((s) => s !== 'NTLM' || this.packages.has('NTLM'));
    if (this.schemes.length === 0) throw new TypeError("options.schemes: only 'NTLM', which options.packages does not allow");
    const skip = own(options, 'skip');
    if (skip !== undefined && typeof skip !== 'function' && !(Array.isArray(skip) && skip.every((p) => typeof p === 'string'))) {
      throw new TypeError('options.skip must be an array of paths or a function');
    }
    this.skipPaths = new Set(Array.isArray(skip) ? skip as string[] : []);
    this.skipPredicate = typeof skip === 'function' ? skip as (req: IncomingMessage) => boolean : undefined;
    this.proxy = booleanOption(options, 'proxy', false);
    this.requestHeader = this.proxy ? 'proxy-authorization' : 'authorization';
    this.corsPreflight = booleanOption(options, 'corsPreflight', !this.proxy);

    const credentials = own(options, 'credentials');
    if (credentials !== undefined) {
      if (credentials === null || typeof credentials !== 'object' || Array.isArray(credentials)) {
        throw new TypeError('credentials must be an object { Negotiate?: Credentials, NTLM?: Credentials }');
      }
      for (const key of Reflect.ownKeys(credentials)) {
        if (typeof key !== 'string' || !hasOwn(PACKAGE_OF, key)) throw new TypeError(`credentials.${String(key)}: not a scheme ('Negotiate' or 'NTLM')`);
        const c = (credentials as Record<string, unknown>)[key];
        if (c === undefined) continue;
        if (!(c instanceof Credentials)) throw new TypeError(`credentials.${key} must be a Credentials object`);
        this.given.set(key as HttpAuthScheme, c);
      }
    }

    // Checked here like ServerContext checks it, so a bad value fails once, not as a 500 per request.
    const contextReq = own(options, 'contextReq');
    this.contextReq = contextReq === undefined ? ASC_REQ.CONNECTION : flags(contextReq, ASC_REQ_MASK, 'options.contextReq', 'ASC_REQ_*');
    const bindings = own(options, 'channelBindings');
    if (bindings !== undefined && bindings !== false && bindings !== 'tls-server-end-point') {
      throw new TypeError("options.channelBindings must be 'tls-server-end-point' or false");
    }
    const policy = own(options, 'extendedProtection');
    if (policy !== undefined && policy !== 'off' && policy !== 'whenSupported' && policy !== 'always') {
      throw new TypeError("options.extendedProtection must be 'off', 'whenSupported' or 'always'");
    }
    if (policy !== undefined && bindings !== undefined) {
      throw new TypeError('options.channelBindings is the older name of options.extendedProtection: give one of them');
    }
    const allowMissing = (this.contextReq & ASC_REQ.ALLOW_MISSING_BINDINGS) !== 0;
    // The alias keeps its AcceptSecurityContext call: bindings, and the flag only if contextReq has it.
    this.extendedProtection = (policy as ExtendedProtection | undefined)
      ?? (bindings === 'tls-server-end-point' ? (allowMissing ? 'whenSupported' : 'always') : 'off');
    if (policy === 'always' && allowMissing) {
      throw new TypeError("options.contextReq has ASC_REQ_ALLOW_MISSING_BINDINGS, which contradicts extendedProtection 'always'");
    }

    const passThrough = own(options, 'passThroughSchemes');
    if (passThrough !== undefined && (!Array.isArray(passThrough) || passThrough.length === 0
      || passThrough.some((x) => x !== 'Bearer' && x !== 'Basic') || new Set(passThrough).size !== passThrough.length)) {
      throw new TypeError("options.passThroughSchemes must be a non-empty array of distinct 'Bearer' and/or 'Basic'");
    }
    this.passThrough = new Set(((passThrough ?? []) as string[]).map((x) => x.toLowerCase()));
    const challenges = own(options, 'passThroughChallenges');
    if (challenges !== undefined) {
      if (!Array.isArray(challenges) || challenges.some((c) => typeof c !== 'string')) {
        throw new TypeError('options.passThroughChallenges must be an array of strings');
      }
      for (const c of challenges as string[]) {
        // Control characters (CR, LF, NUL...) would split or corrupt the header: never sent.
        // eslint-disable-next-line no-control-regex
        if (/[\x00-\x1f\x7f]/.test(c) || !this.passThrough.has(/^[^ ]+/.exec(c)?.[0].toLowerCase() ?? '')) {
          throw new TypeError('options.passThroughChallenges: each must start with a scheme of options.passThroughSchemes and contain no control characters');
        }
      }
    }
    this.passThroughChallenges = Object.freeze([...((challenges ?? []) as string[])]);

    const format = own(options, 'principalFormat') ?? 'samCompatible';
    if (format !== 'samCompatible' && format !== 'upn' && format !== 'sid') {
      throw new TypeError("options.principalFormat must be 'samCompatible', 'upn' or 'sid'");
    }
    this.principalFormat = format;
    const groups = own(options, 'requireGroup');
    if (groups !== undefined) {
      const list = typeof groups === 'string' ? [groups] : groups;
      if (!Array.isArray(list) || list.length === 0 || list.some((g) => typeof g !== 'string' || !SID_STRING.test(g))) {
        throw new TypeError("options.requireGroup must be a SID string ('S-1-5-32-544') or a non-empty array of them");
      }
      this.requireGroup = new Set((list as string[]).map((g) => g.toUpperCase()));
    }
    const persist = own(options, 'persistOnConnection') === undefined ? undefined : booleanOption(options, 'persistOnConnection', false);
    this.persistNtlm = booleanOption(options, 'persistNtlm', persist ?? true);
    this.persistKerberos = booleanOption(options, 'persistKerberos', persist ?? false);
    this.maxTokenBytes = integerOption(options, 'maxTokenBytes', DEFAULT_MAX_TOKEN_BYTES, 1, 2 ** 30);
    this.allowAnonymous = booleanOption(options, 'allowAnonymous', false);
    this.maxPending = integerOption(options, 'maxPendingHandshakes', DEFAULT_MAX_PENDING_HANDSHAKES, 1, Number.MAX_SAFE_INTEGER, true);
    this.maxPendingPerAddress = integerOption(options, 'maxPendingHandshakesPerAddress', DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS, 1, Number.MAX_SAFE_INTEGER, true);
    this.handshakeTimeout = integerOption(options, 'handshakeTimeout', DEFAULT_HANDSHAKE_TIMEOUT_MS, 1, 2 ** 31 - 1);
    this.createContext = functionOption<ServerContextFactory>(options, 'createContext') ?? defaultFactory;
    this.onEvent = functionOption<(e: AuthEvent) => void>(options, 'onEvent');
  }

  /**
   * Authenticates one request. Resolves with the identity when the handshake is complete (the
   * mutual-auth token, if any, is already set as `WWW-Authenticate` on `res`); otherwise it has
   * answered the request and resolves undefined:
   * - 401 with the offered schemes (no or unusable `Authorization`, a token whose framing cannot be
   *   a token (see ./framing.ts), a failed step, an anonymous logon without `allowAnonymous`); when
   *   the failing AcceptSecurityContext produced an output token (a Kerberos KRB-ERROR, a SPNEGO
   *   reject: SspiError.token), it goes back as `WWW-Authenticate: <scheme> <token>` (RFC 4559 section 5);
   * - 401 with the next handshake token (SEC_I_CONTINUE_NEEDED);
   * - 403 when the client authenticated but is in none of `requireGroup`'s groups; 500 when its
   *   groups cannot be read (no token from secur32: fail closed);
   * - 503 with `Retry-After` when starting one more unfinished handshake would pass
   *   `maxPendingHandshakes` or `maxPendingHandshakesPerAddress`, or when the SSPI call queue is full
   *   (an Error with code 'ERR_SSPI_QUEUE_FULL'). 503 rather than 401: the client's credentials were
   *   not judged, and a 401 would make browsers restart the handshake at once or prompt the user for
   *   a password; 503 + Retry-After (RFC 9110 sections 15.6.4 and 10.2.3) says "later";
   * - over HTTP/2, nothing: the stream is reset with HTTP_1_1_REQUIRED (0xd, RFC 9113 section 7,
   *   "The endpoint requires that HTTP/1.1 be used instead of HTTP/2"), the signal IIS uses because
   *   Windows authentication is not supported over HTTP/2
   *   (https://learn.microsoft.com/en-us/iis/get-started/whats-new-in-iis-10/http2-on-iis); browsers
   *   and curl then retry the request over HTTP/1.1. This holds for every token, a single-leg
   *   Kerberos one too: the client cannot know beforehand whether its Negotiate token completes in
   *   one leg (SPNEGO may pick NTLM), and one answer for all keeps clients on one code path.
   *
   * In proxy mode (`proxy: true`) the header read is `Proxy-Authorization`, the 401s are 407s with
   * `Proxy-Authenticate`, and the final token goes in `Proxy-Authenticate`.
   *
   * Calls [AcceptSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acceptsecuritycontext) (via
   * {@link ServerContext.step}), [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw)
   * (SECPKG_ATTR_NAMES, SECPKG_ATTR_NEGOTIATION_INFO; SECPKG_ATTR_NATIVE_NAMES for `principalFormat: 'upn'`),
   * [QuerySecurityContextToken](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritycontexttoken)
   * + [GetTokenInformation](https://learn.microsoft.com/en-us/windows/win32/api/securitybaseapi/nf-securitybaseapi-gettokeninformation)
   * (TokenUser, TokenGroups) and [DeleteSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-deletesecuritycontext)
   * once nothing needs a context any more; the first request per scheme also acquires the server's
   * inbound credentials (AcquireCredentialsHandleW). The returned identity's `context` is owned by
   * the authenticator: do not dispose it, and do not use it after the response has ended.
   * @param req - the request; its `Authorization` header and its socket (the handshake's key).
   * @param res - the response; written to (401/407, 403, 500, 503) when the request is not authenticated.
   * @rejects Error when the server's own credentials cannot be acquired (SspiError from
   *   AcquireCredentialsHandle, e.g. SEC_E_NO_CREDENTIALS) or after close(); TypeError when
   *   `createContext` returns something other than a ServerContext. A client's bad token or wrong
   *   password is not an error: it gets 401.
   */
  async authenticate(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): Promise<AuthenticatedIdentity | undefined> {
    if (this.closed) throw new Error('IntegratedAuthenticator is closed');
    if (isHttp2(req)) {
      this.refuseHttp2(req, res as Http2ServerResponse);
      return undefined;
    }
    const response = res as ServerResponse;
    // Pipelined requests on one connection share its handshake; an SSPI context takes one call at
    // a time, so they are authenticated in arrival order.
    const socket = req.socket;
    this.watch(socket);
    const before = this.queues.get(socket) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => { release = resolve; });
    const turn = before.then(() => mine);
    this.queues.set(socket, turn);
    await before;
    try {
      return await this.authenticateInTurn(req, response, socket);
    } finally {
      release();
      if (this.queues.get(socket) === turn) this.queues.delete(socket);
    }
  }

  private async authenticateInTurn(req: IncomingMessage, res: ServerResponse, socket: Socket): Promise<AuthenticatedIdentity | undefined> {
    if (socket.destroyed) return undefined; // the client is gone: nothing to answer
    const header = req.headers[this.requestHeader];
    const state = this.connections.get(socket);

    if (!header) {
      if (state?.identity) { // only persisted identities stay on the connection
        this.use(state, res);
        return state.identity;
      }
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
    // Framing only (./framing.ts): what cannot be a token never reaches AcceptSecurityContext. The
    // answer is the 401 SSPI's own refusal (SEC_E_INVALID_TOKEN) would give, not 400: the client
    // sees no difference between the two, and a 401 lets it start over.
    const framing = inspectToken(token);
    if (!framing || !fitsScheme(framing, scheme)) {
      this.challenge(req, res, 'malformed token');
      return undefined;
    }
    if (!this.packages.has('NTLM') && (framing.shape === 'ntlm-negotiate' || framing.shape === 'ntlm-authenticate')) {
      if (state) this.drop(state);
      this.challenge(req, res, 'package not allowed');
      return undefined;
    }

    let held: Held;
    let fresh = false;
    if (state && state.scheme === scheme && state.pending && !framing.initial) {
      held = state; // the next leg of this connection's handshake
    } else {
      if (state) this.drop(state);
      // Credentials first: from the cap check to the context being counted, nothing may await, or
      // concurrent first tokens would all pass the check.
      const credentials = await this.credentialsFor(scheme);
      if (socket.destroyed) return undefined; // closed while the credentials were acquired
      const address = socket.remoteAddress ?? '';
      // An NTLM NEGOTIATE_MESSAGE always needs another leg: refuse it before any SSPI call when it
      // could not be held. (Other initial tokens may complete at once, as Kerberos does; they are
      // checked when they ask to continue.)
      if (framing.shape === 'ntlm-negotiate' && this.full(address)) {
        this.unavailable(req, res, scheme, 'pending handshakes');
        return undefined;
      }
      // Extended Protection: bindings only over TLS (plain HTTP has none, whatever the policy);
      // 'whenSupported' lets a client that sends none through (ASC_REQ_ALLOW_MISSING_BINDINGS).
      const channelBindings = this.extendedProtection !== 'off' ? requestChannelBindings(socket) : undefined;
      const contextReq = channelBindings && this.extendedProtection === 'whenSupported'
        ? (this.contextReq | ASC_REQ.ALLOW_MISSING_BINDINGS) >>> 0 : this.contextReq;
      const context = this.createContext(credentials, {
        contextReq, ...(channelBindings ? { channelBindings } : {}), ...(this.requirements ? { requirements: this.requirements } : {}),
      }, scheme);
      if (!(context instanceof ServerContext)) throw new TypeError('createContext must return a ServerContext');
      held = { scheme, context, socket, address, pending: false, owned: true, stepping: false, expired: false, uses: 0 };
      fresh = true;
      this.contexts.add(held);
      this.connections.set(socket, held);
      // Counted from its first token: concurrent first legs cannot all slip under the caps.
      this.setPending(held, true);
      held.timer = setTimeout(() => this.expire(held), this.handshakeTimeout);
      held.timer.unref();
    }

    let result: StepResult;
    held.stepping = true;
    try {
      result = await held.context.step(token);
    } catch (e) {
      held.stepping = false;
      this.drop(held);
      if (e instanceof RequirementError) {
        // The context completed short of options.requirements: refused like a failed logon, and
        // its final token (which would tell the client it succeeded) is not sent.
        if (debug.enabled) debug('leg scheme=%s package=%s requirement=%s in=%d bytes', scheme, e.package ?? '', e.code, token.length);
        if (!socket.destroyed) this.challenge(req, res, e.code);
        return undefined;
      }
      if (!(e instanceof SspiError)) {
        if ((e as { code?: unknown } | null)?.code !== QUEUE_FULL) throw e;
        if (!socket.destroyed) this.unavailable(req, res, scheme, QUEUE_FULL);
        return undefined;
      }
      if (debug.enabled) debug('leg scheme=%s package=%s status=%s in=%d bytes out=%d bytes', scheme, this.legPackage(scheme, held.context), e.code, token.length, e.token?.length ?? 0);
      if (socket.destroyed) return undefined;
      // RFC 4559 section 5: a token the package produced with its failure (KRB-ERROR, SPNEGO reject)
      // goes back to the client in the 401's WWW-Authenticate.
      const reject = e.token && e.token.length > 0 ? { scheme, header: `${scheme} ${e.token.toString('base64')}` } : undefined;
      this.challenge(req, res, e.code, reject);
      return undefined;
    }
    held.stepping = false;

    // The connection closed (its close listener dropped the handshake), or the handshake timed out,
    // while AcceptSecurityContext ran: delete the context now.
    if (socket.destroyed || !held.owned || held.expired) {
      const expired = held.expired && !socket.destroyed;
      this.drop(held);
      if (expired) this.challenge(req, res, 'handshake timeout');
      return undefined;
    }

    if (!result.complete && scheme === 'Negotiate' && this.packages.size < 2) {
      const chosen = this.legPackage(scheme, held.context);
      if (chosen !== 'Negotiate' && !this.packages.has(chosen)) {
        this.drop(held);
        this.challenge(req, res, 'package not allowed');
        return undefined;
      }
    }
    if (!result.complete) {
      if (debug.enabled) debug('leg scheme=%s package=%s status=%s in=%d bytes out=%d bytes', scheme, this.legPackage(scheme, held.context), result.code, token.length, result.token?.length ?? 0);
      // A first leg that asks to continue is held from now on: refused if, without itself, the caps
      // are already reached (a token the framing could not tell would continue, e.g. SPNEGO with NTLM).
      if (fresh && this.full(held.address, 1)) {
        this.drop(held);
        this.unavailable(req, res, scheme, 'pending handshakes');
        return undefined;
      }
      this.emit({ type: 'continue', scheme, remoteAddress: socket.remoteAddress });
      this.sendChallenge(res, [`${scheme} ${result.token?.toString('base64') ?? ''}`.trim()]);
      return undefined;
    }

    this.setPending(held, false);
    clearTimeout(held.timer);
    const identity = this.identityOf(scheme, held.context, result);
    if (debug.enabled) debug('leg scheme=%s package=%s status=%s in=%d bytes out=%d bytes', scheme, identity.package ?? 'unknown', result.code, token.length, result.token?.length ?? 0);
    const refusal = this.refusalOf(identity);
    if (refusal) {
      this.drop(held);
      if (refusal.status === 401) this.challenge(req, res, refusal.reason);
      else this.forbid(req, res, scheme, refusal.status, refusal.reason);
      return undefined;
    }
    this.setPrincipal(identity);
    // RFC 4559 section 5: the final token (Kerberos AP-REP, mutual authentication) travels in the
    // WWW-Authenticate header of the successful response (Proxy-Authenticate in proxy mode).
    if (result.token) res.setHeader(this.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate', `${scheme} ${result.token.toString('base64')}`);
    held.identity = identity;
    if (!(identity.package === 'NTLM' ? this.persistNtlm : this.persistKerberos)) this.disown(held);
    this.use(held, res);
    this.emit({ type: 'authenticated', scheme, remoteAddress: socket.remoteAddress, identity });
    return identity;
  }

  /**
   * Authenticates a CONNECT request of a forward proxy: node:http hands those to the server's
   * 'connect' event as `(req, socket, head)`, without a ServerResponse, and detaches the socket from
   * its HTTP parser. The same handshake as {@link authenticate} runs (Proxy-Authorization /
   * Proxy-Authenticate / 407 in proxy mode; the socket is the handshake's key, so NTLM's legs work
   * as long as the client sends them on one connection, as NTLM clients do).
   *
   * - Authenticated: resolves `{ identity, headers }`; nothing has been written. The caller opens
   *   the tunnel and answers `HTTP/1.1 200 Connection Established` with `headers` (the final token,
   *   `Proxy-Authenticate: Negotiate <AP-REP>`, RFC 4559 section 5; empty for NTLM), or an error
   *   status of its own (502...). The identity's context lives until the socket closes.
   * - Otherwise resolves undefined: the answer (407 with the challenge or the next token, 403/500 of
   *   `requireGroup`, 503) has been written to `socket` with `Connection: keep-alive`, and the socket
   *   is handed back to its HTTP server (`server.emit('connection', socket)`, `head` unshifted) so
   *   that the client's next CONNECT on it arrives as a new 'connect' event, through which the
   *   caller calls this method again. A socket whose server is unknown (not from a net.Server) is
   *   ended after the answer.
   *
   * ```ts
   * server.on('connect', async (req, socket, head) => {
   *   const auth = await authenticator.authenticateConnect(req, socket, head).catch(() => undefined);
   *   if (!auth) return;                                  // answered (or failed): nothing to do
   *   const upstream = net.connect(port, host, () => {
   *     socket.write(`HTTP/1.1 200 Connection Established\r\n${Object.entries(auth.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
   *     upstream.write(head); upstream.pipe(socket).pipe(upstream);
   *   });
   * });
   * ```
   * Calls the same SSPI functions as {@link authenticate}.
   * @param req - the CONNECT request ('connect' event).
   * @param socket - its socket ('connect' event).
   * @param head - the bytes after the request's head ('connect' event); default none.
   * @rejects as {@link authenticate}; TypeError when `req` is not a CONNECT request or `socket` not its socket.
   */
  async authenticateConnect(req: IncomingMessage, socket: Duplex, head: Buffer = Buffer.alloc(0)): Promise<ConnectAuthentication | undefined> {
    if (!(req instanceof IncomingMessage) || req.method !== 'CONNECT') throw new TypeError('req must be a CONNECT IncomingMessage');
    if (socket !== req.socket) throw new TypeError("socket must be the CONNECT request's socket");
    if (!Buffer.isBuffer(head)) throw new TypeError('head must be a Buffer');
    const res = new ServerResponse(req);
    res.assignSocket(req.socket);
    const identity = await this.authenticate(req, res);
    if (identity) {
      // The tunnel is the response: `res` stays assigned (never ended), so the identity's context is
      // released when the socket closes ('close' of the response).
      const header = res.getHeader('Proxy-Authenticate') ?? res.getHeader('WWW-Authenticate');
      const name = this.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
      return { identity, headers: typeof header === 'string' ? { [name]: header } : {} };
    }
    const server = (req.socket as Socket & { server?: unknown }).server;
    const refeed = (): void => {
      if (req.socket.destroyed) return;
      res.detachSocket(req.socket);
      if (!(server instanceof EventEmitter)) {
        req.socket.end();
        return;
      }
      if (head.length > 0) req.socket.unshift(head);
      server.emit('connection', req.socket);
    };
    if (res.writableFinished) refeed();
    else res.once('finish', refeed);
    return undefined;
  }

  /**
   * connect/Express middleware: sets `req.sspi` to the {@link AuthenticatedIdentity} and calls
   * next(), or answers (401 or 407, 403, 500, 503, or an HTTP/2 stream reset); a request
   * {@link exempt} passes (a pass-through scheme, a CORS preflight, a skipped path) goes to next()
   * without `req.sspi`. Errors (the server's own credentials) go to next(err).
   */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
    return (req, res, next) => {
      let exempt: boolean;
      try {
        exempt = this.exempt(req);
      } catch (err) {
        next(err);
        return;
      }
      if (exempt) {
        next();
        return;
      }
      this.authenticate(req, res).then((id) => {
        if (id) {
          (req as IncomingMessage & { sspi?: AuthenticatedIdentity }).sspi = id;
          next();
        }
      }, next);
    };
  }

  /**
   * True when `req` passes unauthenticated, by the options: an `Authorization` (proxy mode:
   * `Proxy-Authorization`) header whose scheme is one of `passThroughSchemes` (its value is not
   * checked nor logged), a CORS preflight (`OPTIONS` with
   * `Access-Control-Request-Method`, unless `corsPreflight: false`), a path in `skip` (the request
   * path without its query, compared exactly), or `skip(req)` returning true. {@link middleware}
   * and the framework adapters call next() for such requests without an identity;
   * {@link authenticate} itself does not consult it (it always authenticates). Makes no SSPI call.
   * @throws whatever the `skip` predicate throws.
   */
  exempt(req: IncomingMessage | Http2ServerRequest): boolean {
    if (this.passThrough.size > 0) {
      const header = req.headers[this.requestHeader];
      if (typeof header === 'string' && this.passThrough.has(/^[^ \t]*/.exec(header)![0].toLowerCase())) {
        debug('pass-through scheme=%s', /^[^ \t]*/.exec(header)![0].toLowerCase() === 'basic' ? 'Basic' : 'Bearer');
        return true;
      }
    }
    if (this.corsPreflight && req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) return true;
    if (this.skipPaths.size > 0) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      if (this.skipPaths.has(q >= 0 ? url.slice(0, q) : url)) return true;
    }
    return this.skipPredicate ? this.skipPredicate(req as IncomingMessage) === true : false;
  }

  /**
   * How many handshakes are pending and how many server contexts exist (see {@link AuthStats}); for
   * monitoring, and for tests that check nothing is left behind. Makes no SSPI call.
   */
  stats(): AuthStats {
    return { pendingHandshakes: this.pendingTotal, contexts: this.contexts.size };
  }

  /**
   * Disposes every context this authenticator still holds (DeleteSecurityContext), those of
   * responses still running included, and the credentials it acquired itself (FreeCredentialsHandle);
   * credentials passed in options stay the caller's. Later authenticate() calls reject.
   * @rejects SspiError if DeleteSecurityContext / FreeCredentialsHandle fail (SEC_E_INVALID_HANDLE).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const h of this.contexts) {
      clearTimeout(h.timer);
      h.context.dispose();
    }
    this.contexts.clear();
    this.pendingByAddress.clear();
    this.pendingTotal = 0;
    const creds = await Promise.allSettled(this.acquired.values());
    for (const c of creds) if (c.status === 'fulfilled') c.value.dispose();
    this.acquired.clear();
  }

  /**
   * The policy applied to an established context before its identity is given out: the reason to
   * refuse it and the status to answer with, or undefined to accept.
   *
   * - a package `packages` does not allow (or none reported, when not every package is allowed): 401;
   * - ASC_RET_NULL_SESSION (an anonymous NTLM logon) unless `allowAnonymous`: 401;
   * - then the client's token (see {@link IntegratedAuthenticator.tokenRefusalOf}): ANONYMOUS LOGON
   *   (S-1-5-7) unless `allowAnonymous`, the Guest account (RID 501), the Guests groups (S-1-5-32-546,
   *   Domain Guests RID 514): never allowed (401); `requireGroup` not met (403) or not checkable (500).
   */
  private refusalOf(identity: AuthenticatedIdentity): Refusal | undefined {
    if (this.packages.size < 2 && (identity.package === null || !this.packages.has(identity.package))) return { status: 401, reason: 'package not allowed' };
    if (identity.anonymous && !this.allowAnonymous) return { status: 401, reason: 'ASC_RET_NULL_SESSION' };
    return this.tokenRefusalOf(identity);
  }

  /**
   * Reads the client's token (QuerySecurityContextToken, GetTokenInformation TokenUser/TokenGroups;
   * no domain controller round trip), puts its user SID on the identity and returns the reason to
   * refuse a guest or anonymous logon ({@link guestOrAnonymous}), or a client outside `requireGroup`
   * (403), or undefined.
   *
   * A token that cannot be read:
   * - SEC_E_UNSUPPORTED_FUNCTION (the package cannot give tokens: Wine's secur32, for every package):
   *   no SID check is possible, the logon is accepted as the handshake decided, `sidNotReported`
   *   says why. Refusing here would refuse every legitimate logon there. With `requireGroup`,
   *   though, it fails closed: 500, 'group membership not available: SEC_E_UNSUPPORTED_FUNCTION'.
   * - any other failure: refused (fail closed, 401; 'QuerySecurityContextToken: SEC_E_...'), unless the
   *   context is an anonymous logon already allowed by `allowAnonymous` and no group is required,
   *   which has nothing left to check. Microsoft's secur32 gives every established NTLM, Kerberos
   *   and Negotiate server context a token.
   */
  private tokenRefusalOf(identity: AuthenticatedIdentity): Refusal | undefined {
    let token: AccessToken;
    try {
      token = identity.context.accessToken();
    } catch (e) {
      if (!(e instanceof SspiError)) throw e;
      identity.sidNotReported = { code: e.code, status: e.status };
      if (this.requireGroup) return { status: 500, reason: `group membership not available: ${e.code}` };
      if (e.status === SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION || identity.anonymous) return undefined;
      return { status: 401, reason: `QuerySecurityContextToken: ${e.code}` };
    }
    try {
      const sid = token.user().sid;
      identity.sid = sid;
      if (sid === WELL_KNOWN_SID.ANONYMOUS_LOGON) identity.anonymous = true;
      const groups = token.groups();
      const guest = guestOrAnonymous(sid, groups, { allowAnonymous: this.allowAnonymous });
      if (guest) return { status: 401, reason: guest };
      if (this.requireGroup && !inRequiredGroup(groups, this.requireGroup)) return { status: 403, reason: 'not in a required group' };
      return undefined;
    } catch (e) {
      if (!(e instanceof SspiError)) throw e;
      return { status: 401, reason: `GetTokenInformation: ${e.code}` };
    } finally {
      token.dispose();
    }
  }

  /**
   * Sets `identity.principal` in the {@link PrincipalFormat} asked for: 'samCompatible' is `user`
   * (SECPKG_ATTR_NAMES), 'sid' is `sid` (the token), 'upn' the Kerberos client name from
   * SECPKG_ATTR_NATIVE_NAMES (QueryContextAttributesW), null for NTLM.
   */
  private setPrincipal(identity: AuthenticatedIdentity): void {
    if (this.principalFormat === 'samCompatible') {
      identity.principal = identity.user;
      if (identity.userNotReported) identity.principalNotReported = { reason: 'SECPKG_ATTR_NAMES', ...identity.userNotReported };
      return;
    }
    if (this.principalFormat === 'sid') {
      identity.principal = identity.sid;
      if (identity.sidNotReported) identity.principalNotReported = { reason: 'QuerySecurityContextToken', ...identity.sidNotReported };
      return;
    }
    if (identity.package !== 'Kerberos') {
      identity.principalNotReported = { reason: identity.package === 'NTLM' ? 'NTLM logons have no principal name' : 'package not reported' };
      return;
    }
    try {
      const name = contextNativeNames(identity.context).clientName;
      if (name && name.includes('@')) identity.principal = name;
      else identity.principalNotReported = { reason: 'SECPKG_ATTR_NATIVE_NAMES gave no client principal name' };
    } catch (e) {
      if (!(e instanceof SspiError)) throw e;
      identity.principalNotReported = { reason: 'SECPKG_ATTR_NATIVE_NAMES', code: e.code, status: e.status };
    }
  }

  private refuseHttp2(req: Http2ServerRequest, res: Http2ServerResponse): void {
    this.emit({ type: 'rejected', remoteAddress: req.socket?.remoteAddress, reason: 'HTTP_1_1_REQUIRED' });
    const stream = req.stream ?? res.stream;
    if (stream && !stream.destroyed) stream.close(http2Constants.NGHTTP2_HTTP_1_1_REQUIRED);
  }

  private credentialsFor(scheme: HttpAuthScheme): Promise<Credentials> {
    const given = this.given.get(scheme);
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
    const anonymous = ((result.contextAttr >>> 0) & ASC_RET.NULL_SESSION) !== 0;
    const identity: AuthenticatedIdentity = { scheme, package: pkg, user: null, contextAttr: result.contextAttr, anonymous, sid: null, principal: null, context };
    try {
      identity.user = context.userName();
    } catch (e) {
      if (!(e instanceof SspiError)) throw e;
      identity.userNotReported = { code: e.code, status: e.status };
    }
    return identity;
  }

  /**
   * For the trace only: the package behind a leg (NTLM; for Negotiate, the one it has chosen so far,
   * from SECPKG_ATTR_NEGOTIATION_INFO, or 'Negotiate' while it has not said).
   */
  private legPackage(scheme: HttpAuthScheme, context: ServerContext): string {
    if (scheme === 'NTLM') return 'NTLM';
    try {
      return context.negotiationInfo().PackageInfo?.Name ?? 'Negotiate';
    } catch {
      return 'Negotiate';
    }
  }

  /** One close listener per socket, registered before anything is held for it. */
  private watch(socket: Socket): void {
    if (this.watched.has(socket)) return;
    this.watched.add(socket);
    socket.once('close', () => {
      const h = this.connections.get(socket);
      if (h) this.drop(h);
    });
  }

  /** True when one more pending handshake from `address` would pass a cap (`self`: 1 if it is already counted). */
  private full(address: string, self = 0): boolean {
    return this.pendingTotal - self >= this.maxPending || (this.pendingByAddress.get(address) ?? 0) - self >= this.maxPendingPerAddress;
  }

  private setPending(h: Held, pending: boolean): void {
    if (h.pending === pending) return;
    h.pending = pending;
    const delta = pending ? 1 : -1;
    this.pendingTotal += delta;
    const n = (this.pendingByAddress.get(h.address) ?? 0) + delta;
    if (n > 0) this.pendingByAddress.set(h.address, n);
    else this.pendingByAddress.delete(h.address);
  }

  /** The handshake timeout: delete an unfinished context (after its step, if one is running). */
  private expire(h: Held): void {
    if (h.identity || !h.owned) return;
    this.emit({ type: 'expired', scheme: h.scheme, remoteAddress: h.address });
    if (h.stepping) h.expired = true;
    else this.drop(h);
  }

  /** The connection no longer refers to `h`; it is deleted once no response uses it either. */
  private disown(h: Held): void {
    if (this.connections.get(h.socket) === h) this.connections.delete(h.socket);
    h.owned = false;
    this.setPending(h, false);
    clearTimeout(h.timer);
  }

  /** Disowns `h` and deletes its context unless a step or a response still uses it. */
  private drop(h: Held): void {
    this.disown(h);
    this.releaseIfUnused(h);
  }

  /** `res` uses `h`'s identity: its context lives at least until `res` has ended. */
  private use(h: Held, res: ServerResponse): void {
    h.uses++;
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      h.uses--;
      this.releaseIfUnused(h);
    };
    res.once('finish', end);
    res.once('close', end);
  }

  private releaseIfUnused(h: Held): void {
    if (h.owned || h.stepping || h.uses > 0 || !this.contexts.has(h)) return;
    this.contexts.delete(h);
    h.context.dispose();
  }

  private challenge(req: IncomingMessage, res: ServerResponse, reason: string | undefined, reject?: { scheme: HttpAuthScheme; header: string }): void {
    debug('challenge %d reason=%s', this.proxy ? 407 : 401, reason ?? 'no Authorization');
    this.emit(reason
      ? { type: 'rejected', remoteAddress: req.socket.remoteAddress, reason }
      : { type: 'challenge', remoteAddress: req.socket.remoteAddress });
    this.sendChallenge(res, [...this.schemes.map((s) => (reject && s === reject.scheme ? reject.header : s)), ...this.passThroughChallenges]);
  }

  private unavailable(req: IncomingMessage, res: ServerResponse, scheme: HttpAuthScheme, reason: string): void {
    this.emit({ type: 'unavailable', scheme, remoteAddress: req.socket.remoteAddress, reason });
    debug('unavailable 503 scheme=%s reason=%s', scheme, reason);
    res.statusCode = 503;
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('503 Service Unavailable: too many unfinished authentications; retry later\n');
  }

  /**
   * 401 with `WWW-Authenticate`, or in proxy mode 407 with `Proxy-Authenticate` (RFC 7235 sections
   * 3.2 and 4.3).
   */
  private sendChallenge(res: ServerResponse, challenges: string[]): void {
    res.statusCode = this.proxy ? 407 : 401;
    res.setHeader(this.proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate', challenges);
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(this.proxy ? '407 Proxy Authentication Required\n' : '401 Unauthorized\n');
  }

  /** `requireGroup` refused (403) or could not be checked (500): the client authenticated, no challenge. */
  private forbid(req: IncomingMessage, res: ServerResponse, scheme: HttpAuthScheme, status: 403 | 500, reason: string): void {
    debug('forbidden %d scheme=%s reason=%s', status, scheme, reason);
    this.emit({ type: 'rejected', scheme, remoteAddress: req.socket.remoteAddress, reason, status });
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(status === 403 ? '403 Forbidden\n' : '500 Internal Server Error: group membership not available\n');
  }

  private emit(e: AuthEvent): void {
    if (this.onEvent) this.onEvent(e);
  }
}
