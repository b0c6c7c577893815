import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { testBed } from '../support/env';

// NODE_DEBUG=sspi (util.debuglog('sspi')) in IntegratedAuthenticator: one line per leg with the
// scheme, the package, the status name and the token sizes, never a token's bytes or a password.
// util.debuglog reads NODE_DEBUG when the module is loaded, so the server runs in a child node.exe
// started with NODE_DEBUG=sspi; its stderr goes to a file (node.exe under Wine cannot write to a
// Linux pipe), and it writes every token it exchanged (base64) to another file, so the test can
// check that none of them reached the trace.

const LIB = path.join(__dirname, '..', '..', 'lib');

const CHILD = `
const fs = require('node:fs');
const http = require('node:http');
const lib = ${JSON.stringify(LIB)};
const { IntegratedAuthenticator } = require(lib + '/http/server.js');
const { ClientContext } = require(lib + '/context.js');
const { Credentials } = require(lib + '/credentials.js');
const { runHandshake } = require(lib + '/handshake.js');
const bed = JSON.parse(fs.readFileSync(process.env.SSPI_TEST_CONFIG, 'utf8'));
const tokens = [];
function get(port, agent, authorization) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent, headers: authorization ? { Authorization: authorization } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, www: [].concat(res.headers['www-authenticate'] || []) }));
    }).on('error', reject);
  });
}
async function login(port, scheme, client) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let status;
  await runHandshake(client, async (token) => {
    if (!token) return undefined;
    tokens.push(token.toString('base64'));
    const r = await get(port, agent, scheme + ' ' + token.toString('base64'));
    status = r.status;
    const h = r.www.find((v) => v.startsWith(scheme + ' '));
    if (!h) return undefined;
    tokens.push(h.slice(scheme.length + 1));
    return Buffer.from(h.slice(scheme.length + 1), 'base64');
  }).catch(() => undefined);
  agent.destroy();
  return status;
}
(async () => {
  const auth = new IntegratedAuthenticator();
  const server = http.createServer(async (req, res) => { const id = await auth.authenticate(req, res); if (id) res.end('ok'); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const user = bed.users[0];
  const statuses = [];
  for (const password of [user.password, 'wrong-password-xyzzy']) {
    const cred = await Credentials.acquire({ package: 'NTLM', identity: { user: user.name, domain: bed.domain, password } });
    statuses.push(await login(port, 'NTLM', new ClientContext(cred)));
  }
  const kcred = await Credentials.acquire({ package: 'Negotiate' });
  statuses.push(await login(port, 'Negotiate', new ClientContext(kcred, { targetName: bed.spn })));
  fs.writeFileSync(process.env.OUT, JSON.stringify({ statuses, tokens }));
  server.close(); server.closeAllConnections(); await auth.close();
  process.exit(0);
})().catch((e) => { fs.writeFileSync(process.env.OUT, JSON.stringify({ error: String(e && e.stack) })); process.exit(1); });
`;

describe('IntegratedAuthenticator: NODE_DEBUG=sspi', () => {
  it('traces each leg (scheme, package, status name, token sizes) and never a token or a password', () => {
    const bed = testBed();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-debuglog-'));
    try {
      const out = path.join(dir, 'out.json');
      const errFile = path.join(dir, 'stderr.txt');
      const fd = fs.openSync(errFile, 'w');
      let status: number | null;
      try {
        status = spawnSync(process.execPath, ['-e', CHILD], {
          stdio: ['ignore', 'ignore', fd], timeout: 120_000, env: { ...process.env, NODE_DEBUG: 'sspi', OUT: out },
        }).status;
      } finally {
        fs.closeSync(fd);
      }
      const result = JSON.parse(fs.readFileSync(out, 'utf8')) as { statuses?: number[]; tokens?: string[]; error?: string };
      assert.equal(result.error, undefined, result.error);
      assert.equal(status, 0);
      assert.deepEqual(result.statuses, [200, 401, 200], 'NTLM ok, NTLM wrong password, Kerberos ok');
      const trace = fs.readFileSync(errFile, 'utf8');
      const lines = trace.split(/\r?\n/).filter((l) => l.startsWith('SSPI '));
      assert.ok(lines.length >= 6, trace);
      // NTLM: NEGOTIATE -> CHALLENGE (continue), AUTHENTICATE -> ok; then the wrong password refused.
      assert.match(trace, /SSPI \d+: leg scheme=NTLM package=NTLM status=SEC_I_CONTINUE_NEEDED in=\d+ bytes out=\d+ bytes/);
      assert.match(trace, /SSPI \d+: leg scheme=NTLM package=NTLM status=SEC_E_OK in=\d+ bytes out=\d+ bytes/);
      assert.match(trace, /SSPI \d+: leg scheme=NTLM package=NTLM status=SEC_E_LOGON_DENIED in=\d+ bytes out=\d+ bytes/);
      // Kerberos through Negotiate: one leg, the package Negotiate chose, the AP-REP's size.
      assert.match(trace, /SSPI \d+: leg scheme=Negotiate package=Kerberos status=SEC_E_OK in=\d+ bytes out=[1-9]\d* bytes/);
      assert.match(trace, /SSPI \d+: challenge/);
      for (const token of result.tokens ?? []) {
        assert.ok(!trace.includes(token), 'a token in the trace');
        assert.ok(!trace.includes(token.slice(0, 16)), 'part of a token in the trace');
      }
      assert.ok((result.tokens ?? []).length >= 5);
      assert.ok(!trace.includes(bed.users[0].password), 'the password in the trace');
      assert.ok(!trace.includes('wrong-password-xyzzy'), 'the wrong password in the trace');
      assert.doesNotMatch(trace, /[A-Za-z0-9+/]{24,}/, 'nothing shaped like base64 in the trace');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
