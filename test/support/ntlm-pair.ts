/**
 * An NTLM client with the explicit credentials of the test bed's first user (a domain user under Wine,
 * a local user created by the Windows workflow) and an NTLM server context, in this process.
 */
import { ClientContext, ClientContextOptions, ServerContext, ServerContextOptions } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { testBed } from './env';

/** The pair, not yet started; disposing it disposes both contexts and both credentials. */
export interface NtlmPair extends Disposable {
  client: ClientContext;
  server: ServerContext;
}

/** `pkg` 'Negotiate' makes the same pair through Negotiate (which chooses NTLM: no SPN is given). */
export async function ntlmPair(clientOptions: ClientContextOptions = {}, serverOptions: ServerContextOptions = {},
  pkg: 'NTLM' | 'Negotiate' = 'NTLM'): Promise<NtlmPair> {
  const bed = testBed();
  const user = bed.users[0];
  const cc = await Credentials.acquire({ package: pkg, identity: { user: user.name, domain: bed.domain, password: user.password } });
  const sc = await Credentials.acquire({ package: pkg, use: 'inbound' });
  const client = new ClientContext(cc, clientOptions);
  const server = new ServerContext(sc, serverOptions);
  return {
    client, server,
    [Symbol.dispose]() {
      for (const d of [client, server, cc, sc]) d.dispose();
    },
  };
}

/** {@link ntlmPair} with SEC_CHANNEL_BINDINGS on each side (none where undefined), for every step. */
export function boundNtlmPair(clientBindings: Buffer | undefined, serverBindings: Buffer | undefined): Promise<NtlmPair> {
  return ntlmPair(clientBindings ? { channelBindings: clientBindings } : {}, serverBindings ? { channelBindings: serverBindings } : {});
}
