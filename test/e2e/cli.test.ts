import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { testBed } from '../support/env';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(repo, 'dist', 'lib', 'cli.js');

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `sspi ...` in Linux Node (no secur32 here), with `input` on stdin; killed after `timeoutMs`. */
function sspi(args: string[], input?: string | Buffer, timeoutMs = 20_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading all of a large input
    child.stdin.end(input ?? '');
  });
}

/** A usage/data error: exit 1, one line on stderr naming the command, no stack trace. */
function assertUsageError(r: Ran, message: RegExp): void {
  assert.equal(r.signal, null, 'killed: the command did not exit by itself');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'a stack trace');
  assert.equal(r.stdout, '');
}

// The `sspi` command in Windows node.exe (its serve command is exercised by http.test.ts).
describe('the sspi command', () => {
  it('`sspi packages --json` lists what EnumerateSecurityPackages returns', async () => {
    const { stdout } = await run('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'packages', '--json'], { cwd: repo });
    const packages = JSON.parse(stdout) as { Name: string; cbMaxToken: number }[];
    const byName = new Map(packages.map((p) => [p.Name, p.cbMaxToken]));
    for (const name of ['Negotiate', 'Kerberos', 'NTLM']) assert.ok((byName.get(name) ?? 0) > 0, `${name} in ${stdout}`);
  });

  it('a bad option value exits 1 with a message naming it', async () => {
    await assert.rejects(run('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'serve', '--port', '99999'], { cwd: repo }), (e: unknown) => {
      const err = e as { code: number; stderr: string };
      assert.equal(err.code, 1);
      assert.match(err.stderr, /option '--port <port>' argument '99999' is invalid/);
      return true;
    });
    await assert.rejects(run('bash', ['scripts/wine-node.sh', 'dist/lib/cli.js', 'serve', '--schemes', 'Basic'], { cwd: repo }), /argument 'Basic' is invalid/);
  });
});

// The same command in Linux Node: no secur32, so only `token`, `--version` and `--help` work.
describe('the sspi command on Linux Node', () => {
  it('each command that needs secur32 exits 1 at once with the one message (serve used to keep listening)', async () => {
    for (const args of [['serve', '--port', '0'], ['fetch', 'http://127.0.0.1:9/'], ['whoami'], ['packages', '--json']]) {
      const r = await sspi(args);
      assertUsageError(r, new RegExp(`^sspi ${args[0]}: needs Windows: SSPI \\(Secur32\\.dll\\) exists only on Windows; this is linux\\.`));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('--version prints package.json\'s version; --help of each command exits 0 and names the exit codes', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await sspi(['--version'])).stdout.trim(), pkg.version);
    for (const command of ['serve', 'fetch', 'whoami', 'packages', 'token']) {
      const r = await sspi([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: sspi ${command} `));
      assert.match(r.stdout, /Exit codes: 0 ok, 1 usage .* 2 authentication failed, 3 network error/s);
    }
    const fetchHelp = (await sspi(['fetch', '--help'])).stdout;
    for (const option of ['-X, --method', '-H, --header', '-d, --data', '-o, --output', '-i, --include', '--spn', '-u, --user', '--package', '--json', 'SSPI_PASSWORD']) {
      assert.ok(fetchHelp.includes(option), `${option} in fetch --help`);
    }
  });

  it('an unknown command or a missing argument exits 1', async () => {
    assert.equal((await sspi(['bogus'])).code, 1);
    assert.equal((await sspi(['token'])).code, 1);
    assert.equal((await sspi(['fetch'])).code, 1);
  });
});

/** MIT GSSAPI (python3-gssapi) initiator and acceptor (the HTTP keytab): a SPNEGO NegTokenInit and the acceptor's NegTokenResp. */
const MIT_SPNEGO = `
import base64, json, sys, gssapi
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
name = gssapi.Name(sys.argv[1], gssapi.NameType.hostbased_service)
c = gssapi.SecurityContext(name=name, mech=SPNEGO, usage="initiate", flags=gssapi.RequirementFlag.mutual_authentication)
s = gssapi.SecurityContext(usage="accept")
t1 = c.step(); t2 = s.step(t1); c.step(t2)
print(json.dumps({"init": base64.b64encode(t1).decode(), "resp": base64.b64encode(t2).decode(), "complete": c.complete}))
`;

describe('sspi token on Linux Node: real tokens', () => {
  const bed = testBed();
  let mit: { init: string; resp: string; complete: boolean };

  before(async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', MIT_SPNEGO, `HTTP@${bed.host}`], { env: process.env });
    mit = JSON.parse(stdout) as typeof mit;
    assert.equal(mit.complete, true);
  });

  it('MIT\'s SPNEGO NegTokenInit: mech types, and the Kerberos AP-REQ inside (ticket realm, sname, etype, kvno)', async () => {
    const r = await sspi(['token', '--json', `Negotiate ${mit.init}`]);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.type, 'gss-initial-context-token');
    assert.deepEqual(t.mechanism, { oid: '1.3.6.1.5.5.2', name: 'SPNEGO' });
    const init = t.innerToken;
    assert.equal(init.type, 'spnego-neg-token-init');
    assert.deepEqual(init.mechTypes[0], { oid: '1.2.840.113554.1.2.2', name: 'Kerberos 5' });
    const apReq = init.mechToken.innerToken;
    assert.equal(init.mechToken.mechanism.oid, '1.2.840.113554.1.2.2');
    assert.equal(apReq.type, 'kerberos-ap-req');
    assert.equal(apReq.gssTokenId, 'KRB_AP_REQ');
    assert.equal(apReq.pvno, 5);
    assert.deepEqual(apReq.msgType, { value: 14, name: 'KRB_AP_REQ' });
    assert.deepEqual(apReq.apOptions, ['mutual-required']); // asked for mutual authentication
    assert.equal(apReq.ticket.realm, bed.realm);
    assert.deepEqual(apReq.ticket.sname.nameString, ['HTTP', bed.host]);
    assert.equal(typeof apReq.ticket.encPart.kvno, 'number');
    assert.ok(apReq.ticket.encPart.etype.name.startsWith('aes'), JSON.stringify(apReq.ticket.encPart));
    assert.ok(apReq.ticket.encPart.cipherBytes > 0 && apReq.authenticator.cipherBytes > 0);
    // The same token pasted as a whole header line, human output.
    const human = await sspi(['token', `Authorization: Negotiate ${mit.init}`]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^GSS-API InitialContextToken/);
    assert.match(human.stdout, /realm: "SSPI\.TEST"/);
    assert.match(human.stdout, /nameString: HTTP, www\.sspi\.test/);
  });

  it('the acceptor\'s NegTokenResp: accept-completed, and the AP-REP inside; read from stdin with `-`', async () => {
    const r = await sspi(['token', '--json', '-'], `WWW-Authenticate: Negotiate ${mit.resp}\n`);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.type, 'spnego-neg-token-resp');
    assert.deepEqual(t.negState, { value: 0, name: 'accept-completed' });
    assert.equal(t.supportedMech.oid, '1.2.840.113554.1.2.2');
    assert.equal(t.responseToken.innerToken.type, 'kerberos-ap-rep');
    assert.deepEqual(t.responseToken.innerToken.msgType, { value: 15, name: 'KRB_AP_REP' });
  });

  it('curl\'s NTLM NEGOTIATE_MESSAGE: its flags by name', async () => {
    // A Linux server answering 401 NTLM records the NEGOTIATE_MESSAGE curl sends.
    let seen: string | undefined;
    const server = http.createServer((req, res) => {
      seen ??= req.headers.authorization;
      res.writeHead(401, { 'WWW-Authenticate': 'NTLM', Connection: 'close' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      // curl gives up (exit 56 or so) when the connection closes mid-handshake: only its first token matters here.
      await run('curl', ['-s', '-m', '20', '-o', '/dev/null', '--ntlm', '-u', 'SSPI\\nobody:not-a-password', `http://127.0.0.1:${port}/`]).catch(() => undefined);
    } finally {
      server.close();
    }
    assert.match(seen ?? '', /^NTLM [A-Za-z0-9+/]+=*$/);
    const r = await sspi(['token', '--json', seen!]);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.type, 'ntlm-negotiate');
    // curl (lib/vauth/ntlm.c) asks for NTLM with a target name; one name per bit set.
    for (const flag of ['NTLMSSP_REQUEST_TARGET', 'NTLMSSP_NEGOTIATE_NTLM']) assert.ok(t.flags.includes(flag), r.stdout);
    const flags = Buffer.from(seen!.slice(5), 'base64').readUInt32LE(12);
    assert.equal(t.flagsValue >>> 0, flags);
    assert.equal(t.flags.length, flags.toString(2).replace(/0/g, '').length);
    assert.doesNotMatch(r.stdout + r.stderr, /not-a-password/);
  });

  it('a KRB-ERROR (RFC 4120 5.9.1) in GSS framing: error code by name, realm, sname, e-text', async () => {
    // Built here with asn1js (neither Wine's acceptor nor MIT's, replay cache off, emits one in this bed).
    const asn1 = await import('asn1js');
    const tag = (n: number, v: InstanceType<typeof asn1.BaseBlock>): InstanceType<typeof asn1.Constructed> =>
      new asn1.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [v] });
    const gstr = (v: string): InstanceType<typeof asn1.GeneralString> => new asn1.GeneralString({ value: v });
    const err = new asn1.Constructed({
      idBlock: { tagClass: 2, tagNumber: 30 },
      value: [new asn1.Sequence({
        value: [
          tag(0, new asn1.Integer({ value: 5 })), tag(1, new asn1.Integer({ value: 30 })),
          tag(4, new asn1.GeneralizedTime({ valueDate: new Date('2026-11-22T04:00:00Z') })), tag(5, new asn1.Integer({ value: 0 })),
          tag(6, new asn1.Integer({ value: 37 })), tag(9, gstr(bed.realm)),
          tag(10, new asn1.Sequence({ value: [tag(0, new asn1.Integer({ value: 3 })), tag(1, new asn1.Sequence({ value: [gstr('HTTP'), gstr(bed.host)] }))] })),
          tag(11, gstr('clock skew too great')),
        ],
      })],
    });
    // The Kerberos 5 OID (06 09 2a864886f712010202) and RFC 4121's TOK_ID for KRB_ERROR (03 00).
    const body = Buffer.concat([Buffer.from('06092a864886f712010202' + '0300', 'hex'), Buffer.from(err.toBER())]);
    const token = Buffer.concat([Buffer.from([0x60, 0x82, body.length >> 8, body.length & 0xff]), body]);
    const r = await sspi(['token', '--json', token.toString('base64')]);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.mechanism.name, 'Kerberos 5');
    assert.deepEqual(t.innerToken, {
      type: 'kerberos-krb-error', gssTokenId: 'KRB_ERROR', pvno: 5, msgType: { value: 30, name: 'KRB_ERROR' },
      errorCode: { value: 37, name: 'KRB_AP_ERR_SKEW' }, stime: '2026-11-22T04:00:00.000Z', realm: bed.realm,
      sname: { nameType: { value: 3, name: 'NT-SRV-HST' }, nameString: ['HTTP', bed.host] }, eText: 'clock skew too great',
    });
  });

  it('hostile input: truncated, wrong lengths, deep nesting, 1 MiB of garbage, not base64: exit 1, one line, no stack trace', async () => {
    const init = Buffer.from(mit.init, 'base64');
    const cases: [string, Buffer | string, RegExp][] = [
      ['truncated', init.subarray(0, init.length - 40), /InitialContextToken: End of input reached before message was fully decoded/],
      ['outer length one short',
        Buffer.concat([init.subarray(0, 1), Buffer.from([0x82, (init.readUInt16BE(2) - 1) >> 8, (init.readUInt16BE(2) - 1) & 0xff]), init.subarray(4)]),
        /InitialContextToken: /],
      // 60 82 LL LL 06 06 <6-byte SPNEGO OID> a0 82 LL LL: the NegTokenInit's length made too long.
      ['inner length too long', Buffer.from(init.map((b, i) => (i === 14 ? b + 5 : b))), /SPNEGO token: not valid BER\/DER/],
      ['deep nesting', Buffer.concat([Buffer.from([0xa1, 0x80]), Buffer.alloc(200_000, Buffer.from([0x30, 0x80]))]), /nesting depth/],
      ['NTLM field past the end',
        Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from('03000000', 'hex'), Buffer.alloc(12), Buffer.from('1000100000ff0000', 'hex'), Buffer.alloc(40)]),
        /AUTHENTICATE_MESSAGE: DomainNameFields .* points outside/],
      ['NTLM type 9', Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from('09000000', 'hex'), Buffer.alloc(8)]), /MessageType 9, not 1, 2 or 3/],
      ['one byte', Buffer.from([0x60]), /too short/],
      ['1 MiB of garbage', Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919 + 13) & 0xff)), /not an NTLM, SPNEGO, Kerberos or GSS-API token/],
      ['not base64', '%%%not base64%%%', /not base64/],
    ];
    for (const [name, bytes, message] of cases) {
      const text = typeof bytes === 'string' ? bytes : bytes.toString('base64');
      const r = await sspi(['token', '-'], text);
      assertUsageError(r, /^sspi token: .+\n$/);
      assert.match(r.stderr, message, name);
      assert.ok(r.stderr.length < 300, `${name}: ${r.stderr}`);
    }
  });
});
