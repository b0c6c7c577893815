/** SSPI's "never expires" TimeStamp (0x7FFFFFFFFFFFFFFF, some packages use 0x7FFFFFFFFFFFFF36). */
const NEVER = 0x7fffffffffff0000n;
/** 100-ns intervals between 1601-01-01 and 1970-01-01. */
const EPOCH_DIFF = 116444736000000000n;

/**
 * Converts an SSPI TimeStamp (100-ns intervals since 1601-01-01) to a Date, or null for "never"
 * (or for 0, which packages return when they do not track expiry). SSPI documents ptsExpiry as local
 * time; most packages (Kerberos, NTLM) fill it with UTC, and it is read as UTC here.
 */
export function timeStampToDate(ts: bigint): Date | null {
  if (ts <= 0n || ts >= NEVER) return null;
  return new Date(Number((ts - EPOCH_DIFF) / 10000n));
}
