/**
 * SSPI TimeStamps (ptsExpiry of AcquireCredentialsHandle, InitializeSecurityContext and
 * AcceptSecurityContext): the one place they become Dates.
 *
 * A TimeStamp is a FILETIME-like count of 100-nanosecond intervals since 1601-01-01, but in LOCAL
 * time, not UTC:
 * - [AcquireCredentialsHandle (General)](https://learn.microsoft.com/en-us/windows/win32/secauthn/acquirecredentialshandle--general),
 *   ptsExpiry: "The value returned in this TimeStamp structure depends on the security package. The
 *   security package must return this value in local time."
 * - [InitializeSecurityContext (General)](https://learn.microsoft.com/en-us/windows/win32/secauthn/initializesecuritycontext--general)
 *   and [AcceptSecurityContext (General)](https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--general),
 *   ptsExpiry: "It is recommended that the security package always return this value in local time."
 *
 * So every package's TimeStamp is read as local time. Measured: Wine's Kerberos (and Negotiate
 * through it) does exactly that (its expiry_to_timestamp() adds the lifetime to
 * RtlSystemTimeToLocalTime(now); node.exe under Wine with TZ=Asia/Tokyo reads a ticket's end nine
 * hours later than under UTC); Wine's NTLM and Schannel report 0 (not tracked).
 *
 * Daylight saving time: a package computes "local now + lifetime" with the bias in force when it is
 * called (as RtlSystemTimeToLocalTime and LocalFileTimeToFileTime do: "uses the current settings for
 * the time zone and daylight saving time",
 * https://learn.microsoft.com/en-us/windows/win32/api/fileapi/nf-fileapi-localfiletimetofiletime).
 * The inverse is therefore "minus the bias in force at the call", not the bias at the expiry instant:
 * a 10-hour ticket acquired before a DST change still expires 10 hours later. The facade converts a
 * TimeStamp when the call returns, with that moment's bias.
 *
 * "Never": 0x7FFFFFFFFFFFFFFF (the largest TimeStamp) and MAXTIMEQUADPART 0x7FFFFF36D5969FFF, which
 * Microsoft's packages return for credentials that do not expire (ntdef.h: the largest time
 * RtlTimeToTimeFields accepts, 30828-09-14). Both, and anything between them, map to null; so does 0
 * or a negative value (the package does not track expiry).
 * @packageDocumentation
 */

/** MAXTIMEQUADPART (ntdef.h): the "never expires" TimeStamp of Microsoft's packages. */
export const MAXTIMEQUADPART = 0x7fffff36d5969fffn;
/** 100-ns intervals between 1601-01-01 and 1970-01-01. */
const EPOCH_DIFF = 116444736000000000n;

/** How to read a TimeStamp. */
export interface TimeStampOptions {
  /**
   * True (default): the TimeStamp is local time, as SSPI says packages return it. False: it is
   * already UTC (a FILETIME).
   */
  local?: boolean;
  /**
   * The moment whose UTC offset converts local time to UTC: when the SSPI call returned (default:
   * now). See the DST note above.
   */
  at?: Date;
}

/**
 * Converts an SSPI TimeStamp (100-ns intervals since 1601-01-01, local time unless
 * `options.local` is false) to a Date (an instant, UTC inside), or null for "never"
 * (>= {@link MAXTIMEQUADPART}) and for "not reported" (<= 0).
 * @param ts - the TimeStamp as a bigint (the addon returns ptsExpiry that way).
 * @throws TypeError if `ts` is not a bigint.
 */
export function timeStampToDate(ts: bigint, options: TimeStampOptions = {}): Date | null {
  if (typeof ts !== 'bigint') throw new TypeError('ts must be a bigint TimeStamp (100-ns intervals since 1601-01-01)');
  if (ts <= 0n || ts >= MAXTIMEQUADPART) return null;
  const ms = Number((ts - EPOCH_DIFF) / 10000n);
  if (options.local === false) return new Date(ms);
  const at = options.at ?? new Date();
  // getTimezoneOffset(): minutes to add to local time to get UTC, in force at `at`.
  return new Date(ms + at.getTimezoneOffset() * 60000);
}
