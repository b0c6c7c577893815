/**
 * EnumerateSecurityPackagesW and QuerySecurityPackageInfoW, raw (src-native/packages.cc).
 * @packageDocumentation
 */
import { native } from '../native';

/** [SecPkgInfoW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secpkginfow), with SSPI's field names. */
export interface SecPkgInfo {
  /** SECPKG_FLAG_* bits. */
  fCapabilities: number;
  wVersion: number;
  wRPCID: number;
  /** Largest token the package produces, in bytes. */
  cbMaxToken: number;
  Name: string;
  Comment: string;
}

interface PackagesNative {
  enumerateSecurityPackages(async: boolean): unknown;
  querySecurityPackageInfo(name: string, async: boolean): unknown;
}

/** What EnumerateSecurityPackages returns: the status and every package (empty on failure). */
export interface EnumerateSecurityPackagesResult {
  status: number;
  packages: SecPkgInfo[];
}

/** What QuerySecurityPackageInfo returns. */
export interface QuerySecurityPackageInfoResult {
  status: number;
  info?: SecPkgInfo;
}

/**
 * [EnumerateSecurityPackagesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-enumeratesecuritypackagesw).
 * The array SSPI allocates is copied and freed with FreeContextBuffer inside the call.
 * @returns `{ status, packages }` (SEC_E_OK; SEC_E_INSUFFICIENT_MEMORY, SEC_E_INTERNAL_ERROR returned).
 */
export function EnumerateSecurityPackages(): EnumerateSecurityPackagesResult {
  return (native() as unknown as PackagesNative).enumerateSecurityPackages(false) as EnumerateSecurityPackagesResult;
}

/** {@link EnumerateSecurityPackages} on the SSPI call queue. */
export function EnumerateSecurityPackagesAsync(): Promise<EnumerateSecurityPackagesResult> {
  return (native() as unknown as PackagesNative).enumerateSecurityPackages(true) as Promise<EnumerateSecurityPackagesResult>;
}

/**
 * [QuerySecurityPackageInfoW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritypackageinfow).
 * The structure SSPI allocates is copied and freed with FreeContextBuffer inside the call.
 * @returns `{ status, info? }`: SEC_E_SECPKG_NOT_FOUND (0x80090305) for an unknown package.
 * @throws TypeError when `pszPackageName` is not a string (or holds a NUL character).
 */
export function QuerySecurityPackageInfo(pszPackageName: string): QuerySecurityPackageInfoResult {
  return (native() as unknown as PackagesNative).querySecurityPackageInfo(pszPackageName, false) as QuerySecurityPackageInfoResult;
}

/** {@link QuerySecurityPackageInfo} on the SSPI call queue. */
export function QuerySecurityPackageInfoAsync(pszPackageName: string): Promise<QuerySecurityPackageInfoResult> {
  return (native() as unknown as PackagesNative).querySecurityPackageInfo(pszPackageName, true) as Promise<QuerySecurityPackageInfoResult>;
}
