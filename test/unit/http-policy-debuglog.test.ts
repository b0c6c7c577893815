/**
 * A pass-through request's `Authorization` value (a bearer token, Basic's user:password) never
 * reaches the NODE_DEBUG=sspi trace, only its scheme. util.debuglog reads NODE_DEBUG when the module
 * loads, so the server runs in a child node.exe started with it; the child's stderr goes to a file
 * (node.exe under Wine cannot write to a Linux pipe).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SERVER = path.join(__dirname, '..', '..', 'lib', 'http', 'server.js');
const BEARER = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl';
const BASIC = Buffer.from('alice:p4ss-w0rd-plugh').toString('base64');

const CHILD = `
const http = require('node:http');
const { IntegratedAuthenticator } = require(${JSON.stringify(SERVER)});
const auth = new IntegratedAuthenticator({ passThroughSchemes: ['Bearer', 'Basic'], passThroughChallenges: ['Bearer realm="api"'] });
const mw = auth.middleware();
const server = http.createServer((req, res) => mw(req, res, () => res.end('passed')));
server.listen(0, '127.0.0.1', async () => {
  const statuses = [];
  for (const authorization of ['Bearer ${BEARER}', 'Basic ${BASIC}', 'bearer', undefined]) {
    statuses.push(await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: server.address().port, path: '/', agent: false,
      headers: authorization ? { authorization } : {} }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject)));
  }
  process.stderr.write('STATUSES ' + JSON.stringify(statuses) + '\\n');
  server.close();
  await auth.close();
});
`;

describe('IntegratedAuthenticator passThroughSchemes: NODE_DEBUG=sspi', () => {
  it('traces the scheme of a pass-through request, never its credentials', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sspi-passthrough-'));
    try {
      const file = path.join(dir, 'stderr.txt');
      const fd = fs.openSync(file, 'w');
      const run = spawnSync(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'ignore', fd], timeout: 60_000, env: { ...process.env, NODE_DEBUG: 'sspi' } });
      fs.closeSync(fd);
      const trace = fs.readFileSync(file, 'utf8');
      assert.equal(run.status, 0, trace);
      assert.match(trace, /STATUSES \[200,200,200,401\]/);
      assert.match(trace, /SSPI \d+: pass-through scheme=Bearer/);
      assert.match(trace, /SSPI \d+: pass-through scheme=Basic/);
      for (const secret of [BEARER, BASIC, 'p4ss-w0rd-plugh', BEARER.split('.')[1]]) assert.ok(!trace.includes(secret), 'a credential in the trace');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
