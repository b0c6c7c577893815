/**
 * The Windows side of test/e2e/http-peers.test.ts, run in node.exe under Wine (scripts/wine-node.sh):
 *
 *   http-peer.js '<json>'
 *
 * fetches `url` (undici's fetch) through a NegotiateAgent made from the JSON's `agent` options (`ca`,
 * a PEM file's path, becomes `connect.ca`; `proxy` goes as given) and prints one line:
 * `result {"status":200,"body":"...","headers":{...}}` or `error {"code":"...","message":"..."}`
 * (the fetch's cause when it has one). Tokens and passwords are never printed.
 */
import * as fs from 'node:fs';

import { fetch } from 'undici';

import { NegotiateAgent, NegotiateAgentOptions } from '../../lib/http/client';

interface Job {
  url: string;
  agent: Partial<NegotiateAgentOptions> & { ca?: string };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as Job;
  const { ca, ...options } = job.agent;
  const agent = new NegotiateAgent({
    origins: [],
    ...options,
    ...(ca ? { connect: { ca: fs.readFileSync(ca, 'utf8'), servername: 'localhost' } } : {}),
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
