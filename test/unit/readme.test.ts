import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

import { NegotiateAgent } from '../../lib/http/client';
import { IntegratedAuthenticator } from '../../lib/http/server';
import { testBed } from '../support/env';
import { AuthServer, forwardRequest, listenAuth } from '../support/http';

// The README's use-case snippets, run as written. Every fenced block whose info string is `js test`
// (GitHub shows it as JavaScript) is one test: saved as an ES module inside this package, so
// `import ... from 'sspi'` and 'sspi/fastify' resolve to this build by the package's self-reference
// (package.json "name" + "exports", as an installed package resolves), and run in its own Windows
// node.exe. A snippet reads what differs between a user's machine and the test bed from the
// environment, with the user's value as default:
//   PORT          the port a server snippet listens on
//   SERVICE_URL   the service a client snippet calls: here a server in this process that authenticates
//                 with IntegratedAuthenticator (any path, any method)
//   SVC_USER, SVC_DOMAIN, SVC_PASSWORD   explicit credentials (the test bed's first user)
//   PROXY_URL     a forward proxy that requires Negotiate (IntegratedAuthenticator with `proxy: true`,
//                 in this process), forwarding plain-HTTP requests to SERVICE_URL
// A snippet that starts listening on PORT is a server: an unauthenticated request must get 401 with
// a Negotiate challenge and our client (NegotiateAgent, Kerberos) 200; then the process is ended. A
// server snippet that is a forward proxy (its code has `proxy: true`) must answer an unauthenticated
// request for SERVICE_URL with 407 and a Negotiate Proxy-Authenticate, and carry our client's request
// (Kerberos to the proxy, then to the service) to the service. A snippet that ends by itself is a
// client: it must exit 0 (the snippets throw on a status that is not OK) after the service
// authenticated it at least once, and through the proxy when its code reads PROXY_URL. Adding a use
// case to the README is one more `js test` block; nothing here changes.

const repo = path.resolve(__dirname, '..', '..', '..');
/** Inside the package (not in its "files"): the snippets' 'sspi' is this build. */
const dir = path.join(repo, 'dist', 'test', 'readme');
/** Preloaded into each snippet: the test bed's host name resolves to 127.0.0.1 (test/support/hosts.ts). */
const HOSTS = path.join(repo, 'dist', 'test', 'support', 'hosts.js');

export interface Snippet {
  /** The heading the block is under. */
  heading: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
  code: string;
}

/** The `js test` fenced blocks of a Markdown text, each with the heading it is under. */
export function testedSnippets(markdown: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const h = /^#{1,6} (.*)$/.exec(lines[i]);
    if (h) heading = h[1].trim();
    if (/^```/.test(lines[i])) {
      const start = i;
      const tested = /^```js test\s*$/.test(lines[i]);
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++);
      if (tested) out.push({ heading, line: start + 1, code: lines.slice(start + 1, i).join('\n') + '\n' });
    }
  }
  return out;
}

/** A port nothing listens on now (the system's choice for port 0). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Resolves true once 127.0.0.1:`port` accepts a connection, false once `exited` settles first. */
async function listeningOrExited(port: number, exited: Promise<unknown>): Promise<boolean> {
  let done = false;
  void exited.then(() => { done = true; });
  for (let i = 0; i < 600 && !done; i++) {
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (connected) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!done) assert.fail(`the snippet neither listened on ${port} nor ended in 60 s`);
  return false;
}

describe('README: every `js test` snippet runs as written (in Windows node.exe, against the domain)', () => {
  const bed = testBed();
  const snippets = testedSnippets(fs.readFileSync(path.join(repo, 'README.md'), 'utf8'));
  let service: AuthServer;
  let proxy: AuthServer;
  /** What the service saw: one entry per authenticated request. */
  const served: { method: string; package: string | null; bytes: number }[] = [];
  /** Requests the proxy authenticated and forwarded. */
  let proxied = 0;

  before(async () => {
    fs.mkdirSync(dir, { recursive: true });
    const auth = new IntegratedAuthenticator();
    service = await listenAuth(auth, async (req, res) => {
      const id = await auth.authenticate(req, res);
      if (!id) return;
      let bytes = 0;
      for await (const chunk of req) bytes += (chunk as Buffer).length;
      served.push({ method: req.method!, package: id.package, bytes });
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ user: id.user, package: id.package, method: req.method, bytes }));
    });

    // The forward proxy: 407 until the client authenticates to it, then the request (absolute-form,
    // plain HTTP) is forwarded to the service with its own Authorization, the proxy's credentials dropped.
    const proxyAuth = new IntegratedAuthenticator({ proxy: true });
    proxy = await listenAuth(proxyAuth, async (req, res) => {
      const id = await proxyAuth.authenticate(req, res);
      if (!id) return;
      proxied++;
      forwardRequest(req, res, { host: '127.0.0.1' }); // the service's host name resolves nowhere here
    });
  });

  after(async () => {
    await proxy?.close();
    await service?.close();
  });

  it('the README has tested snippets (the use cases), each under a heading', () => {
    assert.ok(snippets.length >= 6, `only ${snippets.length} \`js test\` blocks`);
    for (const s of snippets) assert.notEqual(s.heading, '', `README.md:${s.line}`);
  });

  snippets.forEach((snippet, n) => {
    it(`${snippet.heading} (README.md:${snippet.line})`, async () => {
      const file = path.join(dir, `snippet-${n + 1}.mjs`);
      fs.writeFileSync(file, snippet.code);
      const log = path.join(dir, `snippet-${n + 1}.log`);
      const fd = fs.openSync(log, 'w'); // node.exe under Wine cannot write to a pipe: a file
      const port = await freePort();
      const before = served.length;
      const proxiedBefore = proxied;
      const serviceUrl = `http://${bed.host}:${service.port}/api/builds`;
      const child = spawn(process.execPath, ['--require', HOSTS, file], {
        cwd: dir,
        env: {
          ...process.env,
          PORT: String(port),
          SERVICE_URL: serviceUrl,
          PROXY_URL: `http://${bed.host}:${proxy.port}`,
          SVC_USER: bed.users[0].name,
          SVC_DOMAIN: bed.domain,
          SVC_PASSWORD: bed.users[0].password,
          SSPI_TEST_HOST: bed.host,
        },
        stdio: ['ignore', fd, fd],
      });
      fs.closeSync(fd);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const output = (): string => fs.readFileSync(log, 'utf8');
      try {
        const listening = await listeningOrExited(port, exited);
        if (listening && /\bproxy: true\b/.test(snippet.code)) {
          const url = `http://127.0.0.1:${port}`;
          const anonymous = await new Promise<http.IncomingMessage>((resolve, reject) => {
            http.get({ host: '127.0.0.1', port, path: serviceUrl, agent: false }, (res) => {
              res.resume();
              resolve(res);
            }).on('error', reject);
          });
          assert.equal(anonymous.statusCode, 407, output());
          assert.match(String(anonymous.headers['proxy-authenticate']), /\bNegotiate\b/);
          const agent = new NegotiateAgent({ origins: [new URL(serviceUrl).origin], spn: bed.spn, proxy: { uri: url, spn: bed.spn } });
          try {
            const res = await fetch(serviceUrl, { dispatcher: agent } as RequestInit);
            const body = await res.text();
            assert.equal(res.status, 200, body + output());
            assert.match(body, /Kerberos/, 'the service authenticated the client through the proxy');
            assert.ok(served.length > before, 'the request reached the service');
          } finally {
            await agent.close();
          }
        } else if (listening) {
          const url = `http://127.0.0.1:${port}`;
          const anonymous = await fetch(`${url}/`);
          await anonymous.arrayBuffer();
          assert.equal(anonymous.status, 401, output());
          assert.match(String(anonymous.headers.get('www-authenticate')), /\bNegotiate\b/);
          const agent = new NegotiateAgent({ origins: [url], spn: bed.spn, mutualAuthentication: true });
          try {
            const res = await fetch(`${url}/`, { dispatcher: agent } as RequestInit);
            const body = await res.text();
            assert.equal(res.status, 200, body + output());
            assert.match(body, /Kerberos/, 'the route answers with the identity the adapter gave it');
          } finally {
            await agent.close();
          }
        } else {
          assert.equal(await exited, 0, output());
          assert.ok(served.length > before, `the service authenticated no request:\n${output()}`);
          if (snippet.code.includes('PROXY_URL')) assert.ok(proxied > proxiedBefore, `the proxy authenticated no request:\n${output()}`);
        }
      } finally {
        child.kill();
        await exited;
      }
    });
  });
});
