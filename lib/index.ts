/**
 * sspi: Windows SSPI (Secur32.dll) for Node.js.
 *
 * - {@link Credentials}: AcquireCredentialsHandle / FreeCredentialsHandle.
 * - {@link ClientContext} / {@link ServerContext}: InitializeSecurityContext / AcceptSecurityContext
 *   steps, QueryContextAttributes, DeleteSecurityContext.
 * - {@link handshake} / {@link runHandshake}: promise-based handshake loops.
 * - {@link channelBindings}, {@link tlsServerEndPointBindings}, {@link tlsUniqueBindings},
 *   {@link fromSecPkgContextBindings}: SEC_CHANNEL_BINDINGS (RFC 5929) for the contexts' `channelBindings`.
 * - {@link CredSspClient} / {@link CredSspServer}: CredSSP (InitializeSecurityContext / AcceptSecurityContext
 *   (CredSSP)) on the contexts above, with the flags and input buffers Microsoft's pages give.
 * - {@link connect} / {@link createServer} / {@link TlsSocket}: TLS on Schannel (lib/tls), Node `tls`-like.
 * - {@link IntegratedAuthenticator}: RFC 4559 Negotiate / NTLM authentication for Node HTTP servers.
 * - {@link SspiError}: failures, with the SECURITY_STATUS, its name and the SSPI function;
 *   {@link RequirementError}: a context that completed short of its `requirements`.
 * - `sspi/raw`: the raw layer, one function per SSPI call (lib/raw/index.ts), which all of this is built on.
 * - {@link configureQueue} / {@link queueFigures}: the SSPI call queue asynchronous calls run on.
 * @packageDocumentation
 */
export * from './constants';
export { SspiError, RequirementError, statusName, isSuccess } from './errors';
export { enumerateSecurityPackages, querySecurityPackageInfo } from './packages';
export type { SecPkgInfo } from './packages';
export { Credentials } from './credentials';
export type { SecBuffer } from './raw/buffers';
export type { AcquireCredentialsOptions, AuthIdentity, CredentialUse } from './credentials';
export type { SchannelOptions, SchannelAcquireOptions, CredSspAcquireOptions, TlsProtocol, RevocationCheck } from './credentials';
export { Certificate } from './certificates';
export { defaultSchannelCredVersion, schannelAuthData } from './credentials';
export type { PfxOptions, StoreQuery } from './certificates';
export {
  SecurityContext, ClientContext, ServerContext, DEFAULT_ISC_REQ, DEFAULT_ASC_REQ,
} from './context';
export type {
  StepResult, StepOptions, ContextRequirements, ClientContextOptions, ServerContextOptions, ContextAttributeMap, SupportedContextAttribute,
  SecPkgContextSizes, SecPkgContextNegotiationInfo, SecPkgContextKeyInfo, SecPkgContextLifespan,
  SecPkgContextNativeNames, SecPkgContextStreamSizes,
} from './context';
export {
  channelBindings, parseChannelBindings, fromSecPkgContextBindings, certificateHashAlgorithm, tlsServerEndPoint,
  tlsServerEndPointBindings, tlsUnique, tlsUniqueBindings, serverChannelBindings, SEC_CHANNEL_BINDINGS_HEADER_SIZE,
} from './bindings';
export type { SecChannelBindings, ChannelBindingAddresses, CertificateInput, TlsSide } from './bindings';
export {
  CONTEXT_ATTRIBUTES, contextLifespan, contextSessionKey, contextPackageInfo, contextFlags, contextNativeNames,
  contextKeyInfo, contextAuthority, lifespanToDates, queryContextAttribute, queryContextAttributeAsync,
  queryCredentialsAttribute, queryCredentialsAttributeAsync,
} from './attributes';
export type {
  AttributeContext, ContextLifespan, CredentialsAttributeMap, SecPkgContextDceInfo, SecPkgContextAuthority,
  SecPkgContextSessionKey, SecPkgContextPackageInfo, SecPkgContextFlags, SecPkgContextTargetInformation,
  SecPkgContextAccessToken, SecPkgContextBindings, SecPkgContextClientSpecifiedTarget,
  SecPkgContextLastClientTokenStatus, SecPkgContextApplicationProtocol, SecPkgContextIsLoopback,
  SecPkgContextConnectionInfo, SecPkgContextCipherInfo, SecPkgContextCertContext, SecPkgContextIssuerListInfoEx,
  SecPkgContextNames, SecPkgCredentialsNames, SecPkgCredSupportedAlgs, SecPkgCredCipherStrengths,
  SecPkgCredSupportedProtocols,
} from './attributes';
export { handshake, runHandshake } from './handshake';
export type { HandshakeResult, TokenExchange, RunHandshakeOptions, RunHandshakeResult } from './handshake';
export {
  wrap, wrapAsync, unwrap, unwrapAsync, computeIntegrityCheck, computeIntegrityCheckAsync, verifyIntegrityCheck, verifyIntegrityCheckAsync,
} from './message';
export type { WrapOptions, UnwrapResult } from './message';
export { timeStampToDate, MAXTIMEQUADPART } from './time';
export type { TimeStampOptions } from './time';
export { configureQueue, queueFigures, isQueueFull, ERR_SSPI_QUEUE_FULL } from './queue';
export type { QueueOptions, QueueFigures } from './queue';
export {
  IntegratedAuthenticator, DEFAULT_MAX_PENDING_HANDSHAKES, DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_TOKEN_BYTES, RETRY_AFTER_SECONDS,
} from './http/server';
export type {
  IntegratedAuthOptions, AuthenticatedIdentity, AuthEvent, AuthStats, HttpAuthScheme, ServerContextFactory, AuthPackage,
  ConnectAuthentication, ExtendedProtection, PassThroughScheme, PrincipalFormat,
} from './http/server';
export { inspectToken, MECHANISM_OID } from './http/framing';
export type { TokenFraming, TokenShape } from './http/framing';
export { sspiExpress, sspiKoa, SspiStrategy } from './http/adapters';
export type { SspiExpressMiddleware, SspiKoaContext, SspiKoaMiddleware, SspiVerify } from './http/adapters';
// The Fastify plugin is `sspi/fastify` (lib/http/adapters/fastify.ts): its declarations need Fastify's types and it
// loads fastify-plugin, which users of the other entry points should not need.
export { AccessToken, guestOrAnonymous, WELL_KNOWN_SID, DOMAIN_USER_RID_GUEST, DOMAIN_GROUP_RID_GUESTS } from './token';
export type { TokenGroup, AccountName, ImpersonationLevel } from './token';
export {
  CredSspClient, CredSspServer, CREDSSP_PACKAGE, CREDSSP_DOCUMENTED_ISC_REQ, DEFAULT_CREDSSP_ISC_REQ, DEFAULT_CREDSSP_ASC_REQ,
  credSspContextReq, credSspStepOptions, isCredSspPackage,
} from './credssp';
export type { CredSspClientOptions, CredSspServerOptions, IncompleteCredentialsHandler } from './credssp';
export {
  connect, createServer, TlsServer, TlsSocket, TlsError, schannelHandshake, SIDES, applicationProtocols, peerCertificate,
  DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_MAX_PENDING_TLS_HANDSHAKES, DEFAULT_MAX_PENDING_TLS_HANDSHAKES_PER_ADDRESS,
} from './tls';
export type {
  ConnectOptions, ServerOptions, TlsSocketOptions, TlsDiagnostics, TlsRole, TlsVersion, SchannelSide, SchannelHandshakeOptions,
  PeerCertificate, CertificateName,
} from './tls';
export { NegotiateAgent, NegotiateClientError, sspiFetch, DEFAULT_MAX_LEGS, DEFAULT_MAX_BODY_BYTES } from './http/client';
export type { NegotiateAgentOptions, NegotiateProxyOptions, NegotiateLeg, ClientAuthScheme, SspiFetchInit } from './http/client';
