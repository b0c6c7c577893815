/**
 * Runs in Windows node.exe under Wine for test/e2e/adapters.test.ts: our own client (NegotiateAgent
 * with Node's global fetch, and sspiFetch) against the adapter servers, all requests of the run in
 * this one process (node.exe under Wine takes seconds to start):
 *
 *     node adapter-client.js '<JSON: [{ url, mode }, ...]>'
 *
 * Modes:
 *   kerberos        sspiFetch(url) as the current user (the Kerberos ticket cache KRB5CCNAME), SPN
 *                   from the test bed, mutualAuthentication: true (the AP-REP must arrive and verify)
 *   ntlm            fetch(url, { dispatcher: new NegotiateAgent({ identity, schemes: ['NTLM'] }) }) with
 *                   the test bed's first user and password
 *   negotiate-ntlm  the same identity under the Negotiate scheme with an SPN the domain does not know,
 *                   so Negotiate cannot get a Kerberos ticket and authenticates by NTLM
 * Prints one line "results <JSON: [{ status, body, wwwAuthenticate } | { error, code }, ...]>".
 */
import { NegotiateAgent, sspiFetch } from '../../lib/http/client';
import { testBed } from '../support/env';

export type ClientMode = 'kerberos' | 'ntlm' | 'negotiate-ntlm';
export interface ClientCase { url: string; mode: ClientMode }
export type ClientResult = { status: number; body: string; wwwAuthenticate: string | null } | { error: string; code?: string };

async function one({ url, mode }: ClientCase): Promise<ClientResult> {
  const bed = testBed();
  const identity = { user: bed.users[0].name, domain: bed.domain, password: bed.users[0].password };
  const origin = new URL(url).origin;
  const read = async (res: Response): Promise<ClientResult> =>
    ({ status: res.status, body: await res.text(), wwwAuthenticate: res.headers.get('www-authenticate') });
  try {
    if (mode === 'kerberos') return await read(await sspiFetch(url, { sspi: { spn: bed.spn, mutualAuthentication: true } }));
    const agent = new NegotiateAgent(mode === 'ntlm'
      ? { origins: [origin], identity, schemes: ['NTLM'] }
      : { origins: [origin], identity, schemes: ['Negotiate'], spn: 'HTTP/no-such-host.sspi.test' });
    try {
      return await read(await fetch(url, { dispatcher: agent } as RequestInit));
    } finally {
      await agent.close();
    }
  } catch (err) {
    const e = err as Error & { code?: string; cause?: Error & { code?: string } };
    return { error: String(e.cause?.message ?? e.message), code: e.cause?.code ?? e.code };
  }
}

async function main(): Promise<void> {
  const cases = JSON.parse(process.argv[2]) as ClientCase[];
  const results: ClientResult[] = [];
  for (const c of cases) results.push(await one(c)); // one at a time: the bed has two cores
  console.log(`results ${JSON.stringify(results)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
