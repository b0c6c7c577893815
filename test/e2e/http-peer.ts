/**
 * The Windows side of test/e2e/http-peers.test.ts, run in node.exe under Wine (scripts/wine-node.sh):
 *
 *   http-peer.js '<json>'
 *
 * fetches `url` (undici's fetch) through a NegotiateAgent made from the JSON's `agent` options (`ca`,
 * a PEM file's path, becomes `connect.ca`; `proxy` goes as given; `hosts`, names to IPv4 addresses,
 * becomes a `lookup` for the connections to the origin and to the proxy, as curl's --resolve: node.exe
 * cannot resolve the bed's names) and prints one line:
 * `result {"status":200,"body":"...","headers":{...}}` or `error {"code":"...","message":"..."}`
 * (the fetch's cause when it has one). Tokens and passwords are never printed.
 */
import * as fs from 'node:fs';

import { fetch } from 'undici';

import { NegotiateAgent, NegotiateAgentOptions } from '../../lib/http/client';

interface Job {
  url: string;
  agent: Partial<NegotiateAgentOptions> & { ca?: string; hosts?: Record<string, string> };
}

type LookupCallback = (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;

/** A net.connect `lookup` answering `hosts` (name -> IPv4 address) and nothing else. */
function lookupIn(hosts: Record<string, string>) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    const address = hosts[hostname];
    if (!address) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '');
    if (options.all) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as Job;
  const { ca, hosts, ...options } = job.agent;
  const lookup = hosts ? { lookup: lookupIn(hosts) } : {};
  const proxy = options.proxy && typeof options.proxy === 'object' && !(options.proxy instanceof URL)
    ? { ...options.proxy, connect: { ...lookup } } : options.proxy;
  const agent = new NegotiateAgent({
    origins: [],
    ...options,
    proxy,
    connect: { ...lookup, ...(ca ? { ca: fs.readFileSync(ca, 'utf8'), servername: 'localhost' } : {}) },
  } as NegotiateAgentOptions);
  try {
    const res = await fetch(job.url, { dispatcher: agent });
    const body = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => { if (!/authenticate|authorization/i.test(k)) headers[k] = v; });
    console.log(`result ${JSON.stringify({ status: res.status, body, headers })}`);
  } catch (e) {
    const err = ((e as { cause?: unknown }).cause ?? e) as Error & { code?: string };
    console.log(`error ${JSON.stringify({ code: err.code ?? err.name, message: err.message })}`);
  } finally {
    await agent.close();
  }
}

main().catch((e) => {
  console.log(`error ${JSON.stringify({ code: 'fatal', message: e instanceof Error ? e.message : String(e) })}`);
  process.exit(2);
});
