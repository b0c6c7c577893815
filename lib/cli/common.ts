/**
 * What every `sspi` command shares: the exit codes, the error that carries one, and the check that
 * secur32 exists before a command that needs it does anything.
 */

/**
 * The exit codes of `sspi` (scripts may rely on them):
 * - 0: done (`fetch`: any HTTP status other than 401/407, unless --fail);
 * - 1: usage: a bad option or argument, unreadable input, a token that does not decode, or a command
 *   that needs Windows SSPI run on another OS;
 * - 2: authentication failed: the server still answered 401 (or a proxy 407), the server's
 *   mutual-authentication token did not verify or was required and missing, or SSPI refused
 *   (SEC_E_LOGON_DENIED, SEC_E_NO_CREDENTIALS, SEC_E_TARGET_UNKNOWN, ...);
 * - 3: network: connection refused or reset, DNS, TLS, timeouts;
 * - 22: `fetch --fail` and an HTTP status of 400 or more other than 401/407 (curl's --fail code).
 */
export const EXIT = { OK: 0, USAGE: 1, AUTH: 2, NETWORK: 3, HTTP_ERROR: 22 } as const;

/** An error a command reports as one line (`sspi <command>: <message>`) and its exit code; never a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** The commands that call secur32 (all but `token`). */
export const NEEDS_SSPI = new Set(['serve', 'fetch', 'whoami', 'packages']);

/**
 * Throws CliError(EXIT.USAGE) with the one message when this is not Windows: secur32.dll exists only
 * there. Checked before a command does anything (`sspi serve` on Linux must not start listening).
 */
export function requireWindows(command: string): void {
  if (process.platform !== 'win32') {
    throw new CliError(EXIT.USAGE,
      `needs Windows: SSPI (Secur32.dll) exists only on Windows; this is ${process.platform}. ` +
      `(\`sspi ${command}\` cannot run here; \`sspi token\` can.)`);
  }
}
