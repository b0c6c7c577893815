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

async function main() {
  const pkgDir = path.dirname(require.resolve('sspi/package.json'));
  const gypBuild = require(require.resolve('node-gyp-build', { paths: [pkgDir] }));
  const user = bed.users[1]; // the non-ASCII user and password
  const report = {
    version: process.version,
    arch: process.arch,
    packageDir: pkgDir,
    addon: path.relative(pkgDir, gypBuild.path(pkgDir)).split(path.sep).join('/'),
    packages: await check(() => sspi.enumerateSecurityPackages().map((p) => p.Name)),
    kerberos: await check(() => handshake('Kerberos', undefined, bed.spn)),
    ntlm: await check(() => handshake('NTLM', { user: user.name, domain: bed.domain, password: user.password })),
  };
  console.log(`report ${JSON.stringify(report)}`);

  const auth = new sspi.IntegratedAuthenticator();
  const server = http.createServer((req, res) => {
    auth.authenticate(req, res).then((id) => {
      if (!id) return;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ scheme: id.scheme, package: id.package, node: process.version, arch: process.arch }));
    }, (e) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
