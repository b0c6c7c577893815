/**
 * One batch of the seeded token fuzz, run inside Windows node.exe under Wine by test/hostile/fuzz.test.ts
 * (through scripts/wine-node.sh), one batch per child process: Wine runs its NTLM provider inside the
 * calling process, and garbage can crash that process. The parent reads what this child wrote and, when
 * the child died, which case it died in (the marker file) and where it faulted (Wine's +seh trace).
 *
 *   node.exe dist/test/hostile/fuzz-child.js '<JSON Spec>'
 *
 * Target 'asc': each case is a fresh ServerContext (AcceptSecurityContext, synchronous) given one
 * hostile token. Target 'asc2': a fresh ServerContext that accepted a real NTLM NEGOTIATE_MESSAGE (for
 * Negotiate: of a client with explicit credentials and no target, which negotiates NTLM) and is given
 * the hostile token as the AUTHENTICATE_MESSAGE (the server's continuation). Target 'isc': each case is a fresh ClientContext after its first step, given one hostile
 * token as the server's reply (InitializeSecurityContext continuation). Target 'http': an
 * IntegratedAuthenticator server in this process, each case one request with the hostile token as
 * `Authorization: <scheme> <base64>` over a fresh connection from this process. Target 'http2': the
 * same, but the hostile token follows a real NEGOTIATE_MESSAGE on the same connection (it continues the
 * connection's pending handshake).
 *
 * A case's token is a function of (seed, index) and of the real tokens this child captured first (their
 * bytes differ per run: nonces, timestamps); the marker file holds the exact bytes of the case in flight.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { handshake } from '../../lib/handshake';
import { IntegratedAuthenticator } from '../../lib/http/server';
import { testBed } from '../support/env';
import { CorpusToken, mutate } from './mutate';

export interface Spec {
  target: 'asc' | 'asc2' | 'isc' | 'http' | 'http2';
  /** The SSPI package (asc/isc), or the HTTP scheme's package (http: 'Negotiate' or 'NTLM'). */
  package: 'Kerberos' | 'Negotiate' | 'NTLM';
  seed: number;
  /** Cases [from, to). */
  from: number;
  to: number;
  /** Result file (JSON lines), and `${out}.marker` for the case in flight. */
  out: string;
  /** Only the token in this file (raw bytes) instead of generated cases: reruns one recorded case. */
  tokenFile?: string;
  /**
   * Self-test of the parent's crash classifier: 'wine' dies inside Wine's NTLM provider (NTLM
   * AcceptSecurityContext with ASC_REQ_ALLOCATE_MEMORY, a known Wine fault), 'abort' dies in node.exe
   * (process.abort()) after an SSPI call.
   */
  crash?: 'wine' | 'abort';
}

/** One line of the result file. */
export type ResultLine =
  | { kind: 'corpus'; names: string[] }
  | { kind: 'case'; i: number; mutation: string; length: number; outcome: string }
  | { kind: 'done'; valid: string; rssMB: number };

const spec = JSON.parse(process.argv[2]) as Spec;
const bed = testBed();
const results = fs.openSync(spec.out, 'a');
const markerFile = `${spec.out}.marker`;

function record(line: ResultLine): void {
  fs.writeSync(results, `${JSON.stringify(line)}\n`);
}

/** Writes the case about to run, synchronously, so a crash leaves it behind. */
function marker(i: number, mutation: string, token: Buffer): void {
  fs.writeFileSync(markerFile, JSON.stringify({ i, mutation, token: token.toString('base64') }));
}

async function selfTestCrash(kind: 'wine' | 'abort'): Promise<void> {
  using inbound = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
  using outbound = await Credentials.acquire({ package: 'NTLM', identity: identity(0) });
  using client = new ClientContext(outbound);
  const negotiate = client.stepSync().token!;
  marker(0, `self-test ${kind}`, negotiate);
  if (kind === 'abort') {
    using server = new ServerContext(inbound);
    server.stepSync(negotiate);
    process.abort();
  }
  using server = new ServerContext(inbound, { allocateMemory: true });
  server.stepSync(negotiate);
}

function identity(index: 0 | 1): { user: string; domain: string; password: string } {
  const u = bed.users[index];
  return { user: u.name, domain: bed.domain, password: u.password };
}

/** What a step did with a hostile token: 'error:SEC_E_*', 'continue' or 'ok'. Anything else throws. */
function outcomeOf(step: () => { complete: boolean }): string {
  try {
    return step().complete ? 'ok' : 'continue';
  } catch (e) {
    if (e instanceof SspiError) return `error:${e.code}`;
    // Not an SspiError: a defect in our code (wrong error type, corrupt state). The parent fails on it.
    return `exception:${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

/** Real tokens of every kind this bed can make, captured by running real handshakes in this process. */
async function captureCorpus(): Promise<CorpusToken[]> {
  const corpus: CorpusToken[] = [];
  // Kerberos: AP-REQ from the ticket cache, AP-REP (mutual authentication) from the server.
  for (const pkg of ['Kerberos', 'Negotiate'] as const) {
    using cc = await Credentials.acquire({ package: pkg });
    using sc = await Credentials.acquire({ package: pkg, use: 'inbound' });
    using client = new ClientContext(cc, { targetName: bed.spn });
    using server = new ServerContext(sc);
    const first = client.stepSync();
    corpus.push({ name: `${pkg} first token (AP-REQ)`, bytes: first.token! });
    const reply = server.stepSync(first.token);
    if (reply.token) corpus.push({ name: `${pkg} server reply (AP-REP)`, bytes: reply.token });
  }
  // NTLM: NEGOTIATE, CHALLENGE, AUTHENTICATE of a real logon of users[0].
  {
    using cc = await Credentials.acquire({ package: 'NTLM', identity: identity(0) });
    using sc = await Credentials.acquire({ package: 'NTLM', use: 'inbound' });
    using client = new ClientContext(cc);
    using server = new ServerContext(sc);
    const negotiate = client.stepSync();
    const challenge = server.stepSync(negotiate.token);
    const authenticate = client.stepSync(challenge.token);
    corpus.push({ name: 'NTLM NEGOTIATE_MESSAGE', bytes: negotiate.token! });
    corpus.push({ name: 'NTLM CHALLENGE_MESSAGE', bytes: challenge.token! });
    corpus.push({ name: 'NTLM AUTHENTICATE_MESSAGE', bytes: authenticate.token! });
  }
  return corpus;
}

/** A valid handshake of the package after the fuzz, in this same process: must succeed. */
async function validHandshake(pkg: Spec['package']): Promise<string> {
  const kerberos = pkg !== 'NTLM';
  using cc = await Credentials.acquire(kerberos ? { package: pkg } : { package: pkg, identity: identity(0) });
  using sc = await Credentials.acquire({ package: pkg, use: 'inbound' });
  using client = new ClientContext(cc, kerberos ? { targetName: bed.spn } : {});
  using server = new ServerContext(sc);
  const r = await handshake(client, server);
  return `${r.server.code} in ${r.legs} legs`;
}

function* cases(corpus: CorpusToken[]): Generator<{ i: number; mutation: string; token: Buffer }> {
  if (spec.tokenFile !== undefined) {
    yield { i: spec.from, mutation: 'recorded', token: fs.readFileSync(spec.tokenFile) };
    return;
  }
  for (let i = spec.from; i < spec.to; i++) yield { i, ...mutate(spec.seed, i, corpus) };
}

/**
 * A real first message that makes the server continue (SEC_I_CONTINUE_NEEDED): an NTLM
 * NEGOTIATE_MESSAGE, from an NTLM client or a Negotiate client with explicit credentials and no target.
 */
async function continuingFirstToken(pkg: 'NTLM' | 'Negotiate'): Promise<Buffer> {
  using cred = await Credentials.acquire({ package: pkg, identity: identity(0) });
  using client = new ClientContext(cred);
  return client.stepSync().token!;
}

async function runSspi(corpus: CorpusToken[]): Promise<void> {
  // The clients of 'isc' use Kerberos from the ticket cache, except NTLM (explicit credentials).
  const kerberos = spec.package !== 'NTLM';
  using inbound = await Credentials.acquire({ package: spec.package, use: 'inbound' });
  using outbound = await Credentials.acquire(kerberos ? { package: spec.package } : { package: spec.package, identity: identity(0) });
  const first = spec.target === 'asc2' ? await continuingFirstToken(spec.package === 'NTLM' ? 'NTLM' : 'Negotiate') : undefined;
  for (const c of cases(corpus)) {
    let outcome: string;
    if (spec.target === 'asc') {
      using server = new ServerContext(inbound);
      marker(c.i, c.mutation, c.token);
      outcome = outcomeOf(() => server.stepSync(c.token));
    } else if (spec.target === 'asc2') {
      using server = new ServerContext(inbound);
      const challenge = server.stepSync(first);
      if (challenge.complete || !challenge.token) throw new Error(`asc2: the real first message gave ${challenge.code}`);
      marker(c.i, c.mutation, c.token);
      outcome = outcomeOf(() => server.stepSync(c.token));
    } else {
      using client = new ClientContext(outbound, kerberos ? { targetName: bed.spn } : {});
      client.stepSync(); // the real first step; the hostile token is the server's "reply"
      marker(c.i, c.mutation, c.token);
      outcome = outcomeOf(() => client.stepSync(c.token));
    }
    record({ kind: 'case', i: c.i, mutation: c.mutation, length: c.token.length, outcome });
  }
}

/** One request (on a fresh connection unless `agent`); resolves with the status (0 for a connection error). */
function request(port: number, authorization: string | undefined, agent: http.Agent | false = false): Promise<{ status: number; reason?: string }> {
  return new Promise((resolve) => {
    const headers = authorization === undefined ? {} : { Authorization: authorization };
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (e) => resolve({ status: 0, reason: e.message }));
  });
}

async function runHttp(corpus: CorpusToken[]): Promise<void> {
  const scheme = spec.package === 'NTLM' ? 'NTLM' : 'Negotiate';
  const auth = new IntegratedAuthenticator({ schemes: [scheme] });
  const server = http.createServer((req, res) => {
    auth.authenticate(req, res).then((id) => {
      if (id) res.end('authenticated');
    }, (e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const first = spec.target === 'http2' ? await continuingFirstToken(scheme) : undefined;
    for (const c of cases(corpus)) {
      let agent: http.Agent | false = false;
      if (first) {
        // The real NEGOTIATE_MESSAGE first, on the connection the hostile token then continues.
        agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const challenge = await request(port, `${scheme} ${first.toString('base64')}`, agent);
        if (challenge.status !== 401) throw new Error(`http2: the real first message got ${challenge.status}`);
      }
      marker(c.i, c.mutation, c.token);
      const r = await request(port, `${scheme} ${c.token.toString('base64')}`, agent);
      if (agent) agent.destroy();
      record({ kind: 'case', i: c.i, mutation: c.mutation, length: c.token.length, outcome: r.reason ? `status:${r.status} ${r.reason}` : `status:${r.status}` });
    }
    // The server still authenticates a real client afterwards, over HTTP.
    const kerberos = scheme === 'Negotiate';
    using cc = await Credentials.acquire(kerberos ? { package: 'Negotiate' } : { package: 'NTLM', identity: identity(0) });
    using client = new ClientContext(cc, kerberos ? { targetName: bed.spn } : {});
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let status = 0;
    let input: Buffer | undefined;
    try {
      for (let leg = 0; leg < 4 && !client.complete; leg++) {
        const out = client.stepSync(input);
        const reply = await new Promise<{ status: number; header?: string }>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/', agent, headers: { Authorization: `${scheme} ${out.token!.toString('base64')}` } }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, header: res.headers['www-authenticate'] }));
          }).on('error', reject);
        });
        status = reply.status;
        if (status === 200 || !reply.header?.startsWith(`${scheme} `)) break;
        input = Buffer.from(reply.header.slice(scheme.length + 1), 'base64');
      }
    } finally {
      agent.destroy();
    }
    record({ kind: 'done', valid: `HTTP ${status}`, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) });
  } finally {
    server.close();
    server.closeAllConnections();
    await auth.close();
  }
}

async function main(): Promise<void> {
  if (spec.crash) return selfTestCrash(spec.crash);
  const corpus = await captureCorpus();
  record({ kind: 'corpus', names: corpus.map((c) => `${c.name} (${c.bytes.length} B)`) });
  if (spec.target === 'http' || spec.target === 'http2') {
    await runHttp(corpus);
  } else {
    await runSspi(corpus);
    record({ kind: 'done', valid: await validHandshake(spec.package), rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) });
  }
  fs.rmSync(markerFile, { force: true });
}

main().then(() => fs.closeSync(results), (e: unknown) => {
  // A JavaScript failure (not a crash): written for the parent, which fails the batch on it.
  fs.writeSync(results, `${JSON.stringify({ kind: 'fatal', error: e instanceof Error ? e.stack : String(e) })}\n`);
  process.exitCode = 1;
});
