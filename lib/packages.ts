import { check } from './errors';
import { EnumerateSecurityPackages, QuerySecurityPackageInfo, SecPkgInfo } from './raw/packages';

export type { SecPkgInfo } from './raw/packages';

/**
 * Lists the security packages installed on this machine.
 *
 * Calls [EnumerateSecurityPackagesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-enumeratesecuritypackagesw).
 * The array SSPI allocates is copied and released with FreeContextBuffer inside the call; the caller
 * frees nothing.
 * @returns one {@link SecPkgInfo} per package (`Name`, `Comment`, `fCapabilities` as SECPKG_FLAG_*
 *   bits, `cbMaxToken` in bytes).
 * @throws SspiError (`function: 'EnumerateSecurityPackages'`), e.g. SEC_E_INSUFFICIENT_MEMORY.
 */
export function enumerateSecurityPackages(): SecPkgInfo[] {
  const r = EnumerateSecurityPackages();
  check(r.status, 'EnumerateSecurityPackages');
  return r.packages;
}

/**
 * Describes one security package by name ('Negotiate', 'Kerberos', 'NTLM', 'Schannel', ...).
 *
 * Calls [QuerySecurityPackageInfoW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querysecuritypackageinfow);
 * the structure SSPI allocates is copied and freed with FreeContextBuffer inside the call.
 * @param name - the package name, case-insensitive as SSPI compares it.
 * @throws TypeError if `name` is not a string.
 * @throws SspiError SEC_E_SECPKG_NOT_FOUND (0x80090305) for an unknown package.
 */
export function querySecurityPackageInfo(name: string): SecPkgInfo {
  const r = QuerySecurityPackageInfo(name);
  check(r.status, 'QuerySecurityPackageInfo', { package: name });
  return r.info as SecPkgInfo;
}

const maxTokenCache = new Map<string, number>();

/** cbMaxToken of a package (bytes), cached per package name. */
export function maxTokenSize(packageName: string): number {
  const key = packageName.toLowerCase();
  let size = maxTokenCache.get(key);
  if (size === undefined) {
    size = querySecurityPackageInfo(packageName).cbMaxToken;
    maxTokenCache.set(key, size);
  }
  return size;
}
