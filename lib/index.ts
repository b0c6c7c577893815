/**
 * sspi: Windows SSPI (Secur32.dll) for Node.js.
 *
 * - {@link Credentials}: AcquireCredentialsHandle / FreeCredentialsHandle.
 * - {@link ClientContext} / {@link ServerContext}: InitializeSecurityContext / AcceptSecurityContext
 *   steps, QueryContextAttributes, DeleteSecurityContext.
 * - {@link handshake} / {@link runHandshake}: promise-based handshake loops.
 * - {@link IntegratedAuthenticator}: RFC 4559 Negotiate / NTLM authentication for Node HTTP servers.
 * - {@link SspiError}: failures, with the SECURITY_STATUS, its name and the SSPI function.
 * - {@link configureQueue} / {@link queueFigures}: the SSPI call queue asynchronous calls run on.
 * @packageDocumentation
 */
export * from './constants';
export { SspiError, statusName, isSuccess } from './errors';
export { enumerateSecurityPackages, querySecurityPackageInfo } from './packages';
export type { SecPkgInfo } from './packages';
export { Credentials } from './credentials';
export type { AcquireCredentialsOptions, AuthIdentity, CredentialUse } from './credentials';
export {
  SecurityContext, ClientContext, ServerContext, DEFAULT_ISC_REQ, DEFAULT_ASC_REQ,
} from './context';
export type {
  StepResult, ClientContextOptions, ServerContextOptions, ContextAttributeMap, SupportedContextAttribute,
  SecPkgContextSizes, SecPkgContextNegotiationInfo, SecPkgContextKeyInfo, SecPkgContextLifespan,
  SecPkgContextNativeNames, SecPkgContextStreamSizes,
} from './context';
export { handshake, runHandshake } from './handshake';
export type { HandshakeResult, TokenExchange } from './handshake';
export { timeStampToDate, MAXTIMEQUADPART } from './time';
export type { TimeStampOptions } from './time';
export { configureQueue, queueFigures, isQueueFull, ERR_SSPI_QUEUE_FULL } from './queue';
export type { QueueOptions, QueueFigures } from './queue';
export {
  IntegratedAuthenticator, DEFAULT_MAX_PENDING_HANDSHAKES, DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_TOKEN_BYTES, RETRY_AFTER_SECONDS,
} from './http/server';
export type {
  IntegratedAuthOptions, AuthenticatedIdentity, AuthEvent, AuthStats, HttpAuthScheme, ServerContextFactory,
} from './http/server';
export { inspectToken, MECHANISM_OID } from './http/framing';
export type { TokenFraming, TokenShape } from './http/framing';
export { AccessToken, guestOrAnonymous, WELL_KNOWN_SID, DOMAIN_USER_RID_GUEST, DOMAIN_GROUP_RID_GUESTS } from './token';
export type { TokenGroup, AccountName, ImpersonationLevel } from './token';
