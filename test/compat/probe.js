'use strict';
// @ts-check
// Runs inside a Windows node.exe (any line of scripts/node-lines.json) from a folder where the packed
// tarball was installed with `npm install`: it uses the package only as a user would, by `require('sspi')`.
// It prints one line `report <json>` with what it found, then serves integrated authentication over HTTP
// (prints `listening on <port>`) until it is killed, for curl on the Linux side. Plain JavaScript, so it
// runs unchanged on every Node line. Test-bed description: the JSON file $SSPI_TEST_CONFIG.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const sspi = require('sspi');

const bed = JSON.parse(fs.readFileSync(/** @type {string} */ (process.env.SSPI_TEST_CONFIG), 'utf8'));
const port = Number(process.env.SSPI_COMPAT_PORT);

/** Runs one check; its result or its error (with the SSPI status when there is one) goes in the report. */
async function check(fn) {
  try {
    return { ok: await fn() };
  } catch (e) {
    const err = /** @type {any} */ (e);
    return { error: `${err && err.name}: ${err && err.message}`, code: err && err.code };
  }
}

/** Client and server handshake in this process; both sides' final codes and the number of legs. */
async function handshake(pkg, identity, targetName) {
  const clientCred = await sspi.Credentials.acquire({ package: pkg, identity });
  const serverCred = await sspi.Credentials.acquire({ package: pkg, use: 'inbound' });
  const client = new sspi.ClientContext(clientCred, { targetName });
  const server = new sspi.ServerContext(serverCred);
  try {
    const r = await sspi.handshake(client, server);
    return { client: r.client.code, server: r.server.code, legs: r.legs };
  } finally {
    for (const d of [client, server, clientCred, serverCred]) d.dispose();
  }
}

/**
 * Node's own global fetch with the package's NegotiateAgent as its dispatcher, against this probe's
 * server: a POST (its body replayed on the handshake's legs). Each Node line bundles its own undici
 * (6 up to Node 22, 7 in Node 24, 8 in Node 26, whose handlers have another shape).
 */
async function globalFetch(url, agentOptions) {
  const agent = new sspi.NegotiateAgent({ origins: [url], ...agentOptions });
  try {
    const res = await fetch(url, { method: 'POST', body: 'probe body', dispatcher: agent });
    return { status: res.status, body: JSON.parse(await res.text()) };
  } finally {
    await agent.close();
  }
}

async function main() {
  const auth = new sspi.IntegratedAuthenticator();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    const ended = new Promise((resolve) => req.once('end', resolve));
    auth.authenticate(req, res).then(async (id) => {
      if (!id) return;
      await ended;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({
        scheme: id.scheme, package: id.package, node: process.version, arch: process.arch,
        ...(req.method === 'POST' ? { body: Buffer.concat(chunks).toString() } : {}),
      }));
    }).catch((e) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${port}/`;

  const pkgDir = path.dirname(require.resolve('sspi/package.json'));
  const gypBuild = require(require.resolve('node-gyp-build', { paths: [pkgDir] }));
  const user = bed.users[1]; // the non-ASCII user and password
  const identity = { user: user.name, domain: bed.domain, password: user.password };
  const report = {
    version: process.version,
    arch: process.arch,
    packageDir: pkgDir,
    addon: path.relative(pkgDir, gypBuild.path(pkgDir)).split(path.sep).join('/'),
    packages: await check(() => sspi.enumerateSecurityPackages().map((p) => p.Name)),
    kerberos: await check(() => handshake('Kerberos', undefined, bed.spn)),
    ntlm: await check(() => handshake('NTLM', identity)),
    fetchKerberos: await check(() => globalFetch(url, { spn: bed.spn })),
    fetchNtlm: await check(() => globalFetch(url, { identity, schemes: ['NTLM'] })),
  };
  console.log(`report ${JSON.stringify(report)}`);
  console.log(`listening on ${port}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
