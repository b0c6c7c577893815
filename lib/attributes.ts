/**
 * Context and credential attributes for the facade: the structures each SECPKG_ATTR_* /
 * SECPKG_CRED_ATTR_* query returns (from the raw layer, lib/raw/attributes.ts, SSPI's field names),
 * and the helpers {@link SecurityContext} and {@link Credentials} build on: a query that throws
 * {@link SspiError} for failures, and the conversions of TimeStamps to Dates (lib/time.ts).
 * @packageDocumentation
 */
import { SECPKG_ATTR, SECPKG_CRED_ATTR } from './constants';
import { check } from './errors';
import { SecPkgInfo } from './native';
import type { CredHandle as NativeCredHandle, CtxtHandle as NativeCtxtHandle } from './raw/handles';
import {
  ContextAttributeMap, CredentialsAttributeMap, QueryContextAttributes, QueryContextAttributesAsync,
  QueryCredentialsAttributes, QueryCredentialsAttributesAsync, SecPkgContextLifespan, SupportedContextAttribute,
} from './raw/attributes';
import { timeStampToDate } from './time';

export type {
  ContextAttributeMap, CredentialsAttributeMap, SupportedContextAttribute, SecPkgContextSizes, SecPkgContextStreamSizes,
  SecPkgContextNames, SecPkgContextLifespan, SecPkgContextDceInfo, SecPkgContextKeyInfo, SecPkgContextAuthority,
  SecPkgContextSessionKey, SecPkgContextPackageInfo, SecPkgContextNegotiationInfo, SecPkgContextNativeNames,
  SecPkgContextFlags, SecPkgContextTargetInformation, SecPkgContextAccessToken, SecPkgContextBindings,
  SecPkgContextClientSpecifiedTarget, SecPkgContextLastClientTokenStatus, SecPkgContextApplicationProtocol,
  SecPkgContextIsLoopback, SecPkgContextConnectionInfo, SecPkgContextCipherInfo, SecPkgContextCertContext,
  SecPkgContextIssuerListInfoEx, SecPkgCredentialsNames, SecPkgCredSupportedAlgs, SecPkgCredCipherStrengths,
  SecPkgCredSupportedProtocols,
} from './raw/attributes';
export { CONTEXT_ATTRIBUTES } from './raw/attributes';

/** SECPKG_ATTR_LIFESPAN as instants: null for "never" / not reported (see {@link timeStampToDate}). */
export interface ContextLifespan {
  /** tsStart as a Date, converted from local time when the query returned. */
  start: Date | null;
  /** tsExpiry as a Date, converted from local time when the query returned. */
  expiry: Date | null;
}

/** The name of a SECPKG_ATTR_* value for messages ('SECPKG_ATTR_SIZES'), or its number. */
function attributeName(attribute: number): string {
  const name = (SECPKG_ATTR as unknown as Record<number, string | undefined>)[attribute];
  return name ? `SECPKG_ATTR_${name}` : `attribute ${attribute}`;
}

/**
 * QueryContextAttributes on `handle`, throwing for failures: the facade's common query.
 * Calls [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw)
 * through the raw layer; package memory is freed inside.
 * @throws SspiError (`function: 'QueryContextAttributes'`): SEC_E_INVALID_HANDLE before the first step,
 *   SEC_E_UNSUPPORTED_FUNCTION when the package does not provide the attribute.
 * @throws RangeError for an attribute the binding does not marshal; Error for a deleted or busy context.
 */
export function queryContextAttribute<A extends SupportedContextAttribute>(handle: NativeCtxtHandle, attribute: A, pkg?: string): ContextAttributeMap[A] {
  const r = QueryContextAttributes(handle, attribute);
  check(r.status, 'QueryContextAttributes', { package: pkg, detail: `querying ${attributeName(attribute)}` });
  return r.buffer as ContextAttributeMap[A];
}

/** {@link queryContextAttribute} on the SSPI call queue: the same, as a promise (failures reject). */
export async function queryContextAttributeAsync<A extends SupportedContextAttribute>(handle: NativeCtxtHandle, attribute: A, pkg?: string): Promise<ContextAttributeMap[A]> {
  const r = await QueryContextAttributesAsync(handle, attribute);
  check(r.status, 'QueryContextAttributes', { package: pkg, detail: `querying ${attributeName(attribute)}` });
  return r.buffer as ContextAttributeMap[A];
}

/**
 * QueryCredentialsAttributes on `handle`, throwing for failures.
 * Calls [QueryCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw).
 * @throws SspiError (`function: 'QueryCredentialsAttributes'`): SEC_E_UNSUPPORTED_FUNCTION,
 *   SEC_E_INVALID_HANDLE. RangeError for another attribute; Error for freed credentials.
 */
export function queryCredentialsAttribute<A extends keyof CredentialsAttributeMap>(handle: NativeCredHandle, attribute: A, pkg?: string): CredentialsAttributeMap[A] {
  const r = QueryCredentialsAttributes(handle, attribute);
  const name = attribute === SECPKG_CRED_ATTR.NAMES ? 'SECPKG_CRED_ATTR_NAMES' : attributeName(attribute);
  check(r.status, 'QueryCredentialsAttributes', { package: pkg, detail: `querying ${name}` });
  return r.buffer as CredentialsAttributeMap[A];
}

/** {@link queryCredentialsAttribute} on the SSPI call queue (failures reject). */
export async function queryCredentialsAttributeAsync<A extends keyof CredentialsAttributeMap>(handle: NativeCredHandle, attribute: A, pkg?: string): Promise<CredentialsAttributeMap[A]> {
  const r = await QueryCredentialsAttributesAsync(handle, attribute);
  const name = attribute === SECPKG_CRED_ATTR.NAMES ? 'SECPKG_CRED_ATTR_NAMES' : attributeName(attribute);
  check(r.status, 'QueryCredentialsAttributes', { package: pkg, detail: `querying ${name}` });
  return r.buffer as CredentialsAttributeMap[A];
}

/**
 * SecPkgContext_Lifespan's TimeStamps as Dates, read as local time with the UTC offset in force at
 * `at` (when the query returned), as {@link timeStampToDate} documents.
 */
export function lifespanToDates(lifespan: SecPkgContextLifespan, at: Date = new Date()): ContextLifespan {
  return { start: timeStampToDate(lifespan.tsStart, { at }), expiry: timeStampToDate(lifespan.tsExpiry, { at }) };
}

/**
 * What the friendly getters below need of a context: a {@link SecurityContext} (ClientContext /
 * ServerContext) fits. They are the methods .NET / sspilib offer, as functions over the context.
 */
export interface AttributeContext {
  /** The context's CtxtHandle (what QueryContextAttributes takes). */
  readonly handle: NativeCtxtHandle;
  /** The security package the context was created for (errors name it). */
  readonly package: string;
  /** True once the context was deleted: the functions then throw instead of calling SSPI. */
  readonly disposed: boolean;
}

function query<A extends SupportedContextAttribute>(context: AttributeContext, attribute: A): ContextAttributeMap[A] {
  if (context.disposed) throw new Error('QueryContextAttributes: the context has been disposed');
  return queryContextAttribute(context.handle, attribute, context.package);
}

/**
 * SECPKG_ATTR_LIFESPAN as Dates (tsStart, tsExpiry read as local time when the query returned; null for
 * "never" or not reported), via [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextLifespan(context: AttributeContext): ContextLifespan {
  const value = query(context, SECPKG_ATTR.LIFESPAN);
  return lifespanToDates(value, new Date());
}

/**
 * SECPKG_ATTR_SESSION_KEY: the context's session key, a new Buffer the caller owns (a secret: wipe it
 * with `fill(0)` when done; the addon wiped its own copy and the package's buffer), via
 * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextSessionKey(context: AttributeContext): Buffer {
  return query(context, SECPKG_ATTR.SESSION_KEY).SessionKey;
}

/**
 * SECPKG_ATTR_PACKAGE_INFO: the SecPkgInfo of the package the context uses (copied; the package's copy
 * is freed inside), via [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextPackageInfo(context: AttributeContext): SecPkgInfo | null {
  return query(context, SECPKG_ATTR.PACKAGE_INFO).PackageInfo;
}

/**
 * SECPKG_ATTR_FLAGS: the negotiated ISC_RET_* / ASC_RET_* bits, via
 * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextFlags(context: AttributeContext): number {
  return query(context, SECPKG_ATTR.FLAGS).Flags >>> 0;
}

/**
 * SECPKG_ATTR_NATIVE_NAMES: client and server principal names, via
 * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextNativeNames(context: AttributeContext): { clientName: string | null; serverName: string | null } {
  const v = query(context, SECPKG_ATTR.NATIVE_NAMES);
  return { clientName: v.sClientName, serverName: v.sServerName };
}

/**
 * SECPKG_ATTR_KEY_INFO: signature and encryption algorithm names and ids, key size in bits, via
 * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextKeyInfo(context: AttributeContext): ContextAttributeMap[SECPKG_ATTR.KEY_INFO] {
  return query(context, SECPKG_ATTR.KEY_INFO);
}

/**
 * SECPKG_ATTR_AUTHORITY: the authenticating authority's name (a Kerberos realm, an NTLM domain), via
 * [QueryContextAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycontextattributesw).
 * @throws SspiError SEC_E_INVALID_HANDLE before the first step; SEC_E_UNSUPPORTED_FUNCTION. Error if disposed.
 */
export function contextAuthority(context: AttributeContext): string | null {
  return query(context, SECPKG_ATTR.AUTHORITY).sAuthorityName;
}
