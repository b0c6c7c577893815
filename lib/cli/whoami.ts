/**
 * `sspi whoami`: the current user as SSPI sees it. For each of Negotiate, Kerberos and NTLM it
 * acquires the current user's outbound credentials
 * ([AcquireCredentialsHandleW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew))
 * and asks them for their user
 * ([QueryCredentialsAttributesW](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-querycredentialsattributesw)
 * SECPKG_CRED_ATTR_NAMES); a package that cannot say shows the SECURITY_STATUS it returned.
 */
import { Credentials } from '../credentials';
import { SspiError } from '../errors';
import { CliError, EXIT } from './common';

/** One package's answer. */
export interface WhoamiEntry {
  package: string;
  /** SECPKG_CRED_ATTR_NAMES' sUserName; null when the package could not say. */
  user: string | null;
  /** When `user` is null: the SSPI function that failed and its status name. */
  error?: { function: string; code: string };
}

export interface WhoamiResult {
  /** The first name any package reported (Negotiate's, else Kerberos', else NTLM's); null if none did. */
  user: string | null;
  packages: WhoamiEntry[];
}

export const WHOAMI_PACKAGES = ['Negotiate', 'Kerberos', 'NTLM'];

/** Asks each package; SSPI failures are reported per package, never thrown. */
export async function whoami(): Promise<WhoamiResult> {
  const packages: WhoamiEntry[] = [];
  for (const pkg of WHOAMI_PACKAGES) {
    let creds: Credentials | undefined;
    try {
      creds = await Credentials.acquire({ package: pkg, use: 'outbound' });
      packages.push({ package: pkg, user: creds.userName() || null });
    } catch (e) {
      if (!(e instanceof SspiError)) throw e;
      packages.push({ package: pkg, user: null, error: { function: e.function, code: e.code } });
    } finally {
      creds?.dispose();
    }
  }
  return { user: packages.find((p) => p.user)?.user ?? null, packages };
}

/** Runs `sspi whoami`; resolves to the exit code (0 when a package named the user, 2 when none could). */
export async function whoamiCommand(opts: { json: boolean }): Promise<number> {
  const r = await whoami();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    if (r.user) process.stdout.write(`${r.user}\n`);
    for (const p of r.packages) {
      process.stdout.write(`  ${p.package.padEnd(10)} ${p.user ?? `(not reported: ${p.error?.function} ${p.error?.code})`}\n`);
    }
  }
  if (!r.user) {
    if (!opts.json) throw new CliError(EXIT.AUTH, 'no security package reported a current user (no credentials)');
    return EXIT.AUTH;
  }
  return EXIT.OK;
}
