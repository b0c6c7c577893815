import { strict as assert } from 'node:assert';

import * as raw from '../../lib/raw';
import { ISC_REQ, SECBUFFER, SECPKG_ATTR, SECURITY_STATUS } from '../../lib/constants';
import { testBed } from '../support/env';
import { wineVersion } from '../support/wine';

const DREP = 0x10; // SECURITY_NATIVE_DREP
const REQ = ISC_REQ.MUTUAL_AUTH | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONNECTION;
const hex = (status: number): string => `0x${(status >>> 0).toString(16).toUpperCase()}`;

// The public raw layer (`sspi/raw`), each SSPI call one to one, against the domain's Kerberos (in
// process under Wine) and NTLM: statuses returned, never thrown; SecBufferDescs written back in place.
describe('raw layer: handshakes, buffers written back, allocation modes', () => {
  const bed = testBed();
  let client: raw.CredHandle;
  let server: raw.CredHandle;

  before(() => {
    const c = raw.AcquireCredentialsHandle(null, 'Kerberos', 2, null, null); // SECPKG_CRED_OUTBOUND
    const s = raw.AcquireCredentialsHandle(null, 'Kerberos', 1, null, null); // SECPKG_CRED_INBOUND
    assert.equal(c.status, 0);
    assert.equal(s.status, 0);
    assert.equal(typeof c.expiry, 'bigint');
    client = c.credential!;
    server = s.credential!;
  });

  after(() => {
    raw.FreeCredentialsHandle(client);
    raw.FreeCredentialsHandle(server);
  });

  it('a Kerberos handshake with every call raw, sync and Async, buffers written back into the caller\'s objects', async () => {
    const cctx = raw.newCtxtHandle();
    const sctx = raw.newCtxtHandle();
    // Caller buffers: one Uint8Array the package writes into, as in C.
    const memory = Buffer.alloc(12000, 0xee);
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: memory.length, pvBuffer: memory }];
    const first = await raw.InitializeSecurityContextAsync(client, cctx, bed.spn, REQ, DREP, null, out);
    assert.equal(first.status, SECURITY_STATUS.SEC_I_CONTINUE_NEEDED, hex(first.status));
    assert.ok(cctx.valid, 'the empty CtxtHandle now holds the context');
    const apReqLength = out[0].cbBuffer!;
    assert.ok(apReqLength > 0 && apReqLength < 12000);
    assert.equal(out[0].pvBuffer!.buffer, memory.buffer, 'pvBuffer is a view of the caller\'s own memory');
    assert.equal(out[0].pvBuffer!.length, apReqLength);
    assert.equal(memory[0], 0x60, 'the AP-REQ (GSS InitialContextToken) was written into the caller\'s Uint8Array');
    assert.equal(memory[apReqLength], 0xee, 'nothing written past cbBuffer');

    const input: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(out[0]) }];
    const reply: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }];
    const accepted = raw.AcceptSecurityContext(server, sctx, input, 0, DREP, reply);
    assert.equal(accepted.status, SECURITY_STATUS.SEC_E_OK, hex(accepted.status));
    assert.equal(input[0].cbBuffer, apReqLength, 'the input SecBuffer as SSPI left it');
    assert.ok(reply[0].cbBuffer! > 0, 'an AP-REP for mutual authentication');
    assert.equal(typeof accepted.expiry, 'bigint');
    // Memory the addon supplied (cbBuffer, no pvBuffer) comes back as a Buffer holding what the package
    // wrote, not the 12,000 bytes supplied: a server keeping tokens keeps no cbMaxToken block per token.
    assert.equal(reply[0].pvBuffer!.buffer.byteLength, reply[0].cbBuffer, 'the AP-REP\'s Buffer is its own size');

    const last: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }];
    const done = raw.InitializeSecurityContext(client, cctx, bed.spn, REQ, DREP,
      [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(reply[0]) }], last);
    assert.equal(done.status, SECURITY_STATUS.SEC_E_OK, hex(done.status));
    assert.ok(done.contextAttr & ISC_REQ.MUTUAL_AUTH, 'ISC_RET_MUTUAL_AUTH');
    assert.equal(last[0].cbBuffer, 0, 'no third token');
    assert.equal(raw.DeleteSecurityContext(cctx), 0);
    assert.equal(raw.DeleteSecurityContext(sctx), 0);
    assert.equal(raw.DeleteSecurityContext(sctx), 0, 'idempotent');
    assert.equal(cctx.valid, false);
  });

  it('ISC_REQ_ALLOCATE_MEMORY: the package\'s buffer is copied and freed with FreeContextBuffer exactly once', () => {
    const ctx = raw.newCtxtHandle();
    const before = raw.handleFigures().contextBuffersFreed;
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN }]; // pvBuffer NULL, cbBuffer 0
    const r = raw.InitializeSecurityContext(client, ctx, bed.spn, REQ | ISC_REQ.ALLOCATE_MEMORY, DREP, null, out);
    assert.equal(r.status, SECURITY_STATUS.SEC_I_CONTINUE_NEEDED, hex(r.status));
    assert.ok(Buffer.isBuffer(out[0].pvBuffer), 'a new Buffer holding a copy of the package\'s memory');
    assert.equal(out[0].pvBuffer!.length, out[0].cbBuffer);
    assert.equal(out[0].pvBuffer![0], 0x60);
    assert.equal(raw.handleFigures().contextBuffersFreed - before, 1, 'one FreeContextBuffer for one allocated buffer');
    raw.DeleteSecurityContext(ctx);
  });

  it('ISC_REQ_ALLOCATE_MEMORY on a failing call: whatever the package allocated is freed once, nothing else', () => {
    const ctx = raw.newCtxtHandle();
    const first: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN }];
    assert.equal(raw.InitializeSecurityContext(client, ctx, bed.spn, REQ | ISC_REQ.ALLOCATE_MEMORY, DREP, null, first).status,
      SECURITY_STATUS.SEC_I_CONTINUE_NEEDED);
    const before = raw.handleFigures().contextBuffersFreed;
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN }, { BufferType: SECBUFFER.ALERT }];
    const r = raw.InitializeSecurityContext(client, ctx, bed.spn, REQ | ISC_REQ.ALLOCATE_MEMORY, DREP,
      [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from('6f03020100', 'hex') }], out); // not an AP-REP
    assert.ok(r.status >= 0x80000000, hex(r.status));
    const allocated = out.filter((b) => b.pvBuffer).length;
    assert.equal(raw.handleFigures().contextBuffersFreed - before, allocated, 'one FreeContextBuffer per buffer the package returned');
    for (const b of out) assert.ok(b.pvBuffer === null || Buffer.isBuffer(b.pvBuffer));
    raw.DeleteSecurityContext(ctx);
  });

  it('AcceptSecurityContext with ASC_REQ_ALLOCATE_MEMORY (Kerberos)', () => {
    const cctx = raw.newCtxtHandle();
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }];
    assert.equal(raw.InitializeSecurityContext(client, cctx, bed.spn, REQ, DREP, null, out).status, SECURITY_STATUS.SEC_I_CONTINUE_NEEDED);
    const sctx = raw.newCtxtHandle();
    const before = raw.handleFigures().contextBuffersFreed;
    const reply: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN }];
    const r = raw.AcceptSecurityContext(server, sctx, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(out[0]) }],
      0x100 /* ASC_REQ_ALLOCATE_MEMORY */, DREP, reply);
    if (wineVersion()) {
      // Wine 10's Kerberos server ignores ASC_REQ_ALLOCATE_MEMORY and finds the NULL, 0-byte output
      // buffer too small for its AP-REP (linux-rig.md, "Wine 10"): nothing allocated, nothing freed.
      assert.equal(r.status, SECURITY_STATUS.SEC_E_BUFFER_TOO_SMALL, hex(r.status));
      assert.equal(raw.handleFigures().contextBuffersFreed - before, 0);
    } else {
      // AcceptSecurityContext (Kerberos): "ASC_REQ_ALLOCATE_MEMORY: Kerberos allocates output buffers"
      // (https://learn.microsoft.com/en-us/windows/win32/secauthn/acceptsecuritycontext--kerberos).
      assert.equal(r.status, SECURITY_STATUS.SEC_E_OK, hex(r.status));
      assert.ok(Buffer.isBuffer(reply[0].pvBuffer) && reply[0].cbBuffer! > 0);
      assert.equal(raw.handleFigures().contextBuffersFreed - before, 1);
    }
    raw.DeleteSecurityContext(cctx);
    raw.DeleteSecurityContext(sctx);
  });

  it('a caller buffer too small: the status SSPI gives (the facade retries SEC_E_BUFFER_TOO_SMALL)', () => {
    const ctx = raw.newCtxtHandle();
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 16 }];
    const r = raw.InitializeSecurityContext(client, ctx, bed.spn, REQ, DREP, null, out);
    if (wineVersion()) {
      // Wine's Kerberos answers a 16-byte output buffer with SEC_E_INCOMPLETE_MESSAGE, not
      // SEC_E_BUFFER_TOO_SMALL (dlls/kerberos/krb5_ap.c maps the unix side's short-buffer result so);
      // the facade does not retry on it (an input status), and never bends to Wine.
      assert.equal(r.status, SECURITY_STATUS.SEC_E_INCOMPLETE_MESSAGE, hex(r.status));
    } else {
      assert.ok([SECURITY_STATUS.SEC_E_BUFFER_TOO_SMALL, SECURITY_STATUS.SEC_E_INSUFFICIENT_MEMORY].includes(r.status), hex(r.status));
    }
    assert.equal(ctx.valid, false, 'no context was created');
    raw.DeleteSecurityContext(ctx);
  });

  it('CompleteAuthToken, ApplyControlToken, ExportSecurityContext, ImportSecurityContext on a Kerberos context', () => {
    const cctx = raw.newCtxtHandle();
    const sctx = raw.newCtxtHandle();
    const out: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }];
    raw.InitializeSecurityContext(client, cctx, bed.spn, REQ, DREP, null, out);
    const reply: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }];
    assert.equal(raw.AcceptSecurityContext(server, sctx, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: raw.bytesOf(out[0]) }], 0, DREP, reply).status, 0);

    // Empty handles: answered without reaching a package.
    const empty = raw.newCtxtHandle();
    assert.equal(raw.CompleteAuthToken(empty, [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 8 }]), SECURITY_STATUS.SEC_E_INVALID_HANDLE);
    assert.equal(raw.ApplyControlToken(empty, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.alloc(4) }]), SECURITY_STATUS.SEC_E_INVALID_HANDLE);
    assert.equal(raw.ExportSecurityContext(empty, 0).status, SECURITY_STATUS.SEC_E_INVALID_HANDLE);

    const complete = raw.CompleteAuthToken(cctx, [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 8 }]);
    const control = raw.ApplyControlToken(sctx, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from([1, 0, 0, 0]) }]);
    const exported = raw.ExportSecurityContext(sctx, 0);
    const imported = raw.newCtxtHandle();
    const imp = raw.ImportSecurityContext('Kerberos', Buffer.alloc(64, 1), imported);
    if (wineVersion()) {
      // Wine's secur32 has no entry for these in the Kerberos provider's function table
      // (dlls/kerberos/krb5_ap.c: CompleteAuthToken, ApplyControlToken, ExportSecurityContext and
      // ImportSecurityContext are NULL), so secur32 answers SEC_E_UNSUPPORTED_FUNCTION.
      assert.equal(complete, SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION, hex(complete));
      assert.equal(control, SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION, hex(control));
      assert.equal(exported.status, SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION, hex(exported.status));
      assert.equal(imp, SECURITY_STATUS.SEC_E_UNSUPPORTED_FUNCTION, hex(imp));
      assert.equal(imported.valid, false);
    } else {
      // Microsoft's pages give no status for these on a Kerberos context; what is checked is the
      // round trip when the export succeeds.
      for (const status of [complete, control, exported.status, imp]) assert.equal(typeof status, 'number');
      if (exported.status === 0) {
        assert.ok(exported.packedContext && exported.packedContext.length > 0);
        const back = raw.newCtxtHandle();
        assert.equal(raw.ImportSecurityContext('Kerberos', exported.packedContext, back), 0);
        raw.DeleteSecurityContext(back);
      }
    }
    assert.throws(() => raw.ImportSecurityContext('Kerberos', Buffer.alloc(4), cctx), /must be a new, empty CtxtHandle/);
    assert.throws(() => raw.ImportSecurityContext('Kerberos', 'x' as never, raw.newCtxtHandle()), TypeError);
    raw.DeleteSecurityContext(cctx);
    raw.DeleteSecurityContext(sctx);
  });

  it('SECBUFFER_MISSING reaches the caller from a real call: a truncated TLS record to a Schannel client', async () => {
    const cred = raw.AcquireCredentialsHandle(null, 'Schannel', 2, null, null);
    assert.equal(cred.status, 0, hex(cred.status));
    const ctx = raw.newCtxtHandle();
    const req = ISC_REQ.STREAM | ISC_REQ.REPLAY_DETECT | ISC_REQ.SEQUENCE_DETECT | ISC_REQ.CONFIDENTIALITY | ISC_REQ.EXTENDED_ERROR | ISC_REQ.MANUAL_CRED_VALIDATION;
    const hello: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 16384 }];
    const first = raw.InitializeSecurityContext(cred.credential!, ctx, 'localhost', req, DREP, null, hello);
    assert.equal(first.status, SECURITY_STATUS.SEC_I_CONTINUE_NEEDED, hex(first.status));
    assert.equal(raw.bytesOf(hello[0])[0], 0x16, 'a TLS handshake record (ClientHello)');
    // The first 6 bytes of a handshake record announcing 64 bytes: 5 header bytes + 1 of 64.
    const input: raw.SecBufferDesc = [
      { BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from([0x16, 0x03, 0x03, 0x00, 0x40, 0x02]) },
      { BufferType: SECBUFFER.EMPTY },
    ];
    const output: raw.SecBufferDesc = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 16384 }, { BufferType: SECBUFFER.ALERT, cbBuffer: 1024 }];
    const r = await raw.InitializeSecurityContextAsync(cred.credential!, ctx, 'localhost', req, DREP, input, output);
    assert.equal(r.status, SECURITY_STATUS.SEC_E_INCOMPLETE_MESSAGE, hex(r.status));
    // "SECBUFFER_MISSING ... the cbBuffer member contains the number of additional bytes needed"
    // (https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secbuffer): 64 - 1.
    assert.equal(input[1].BufferType, SECBUFFER.MISSING);
    assert.equal(input[1].cbBuffer, 63);
    // SCHANNEL_SHUTDOWN (1) as a control token: the context takes it.
    assert.equal(raw.ApplyControlToken(ctx, [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from([1, 0, 0, 0]) }]), 0);
    raw.DeleteSecurityContext(ctx);
    raw.FreeCredentialsHandle(cred.credential!);
  });

  it('EnumerateSecurityPackages and QuerySecurityPackageInfo, sync and Async; package memory freed', async () => {
    const before = raw.handleFigures().contextBuffersFreed;
    const sync = raw.EnumerateSecurityPackages();
    const asyncList = await raw.EnumerateSecurityPackagesAsync();
    assert.equal(sync.status, 0);
    assert.deepEqual(asyncList.packages.map((p) => p.Name), sync.packages.map((p) => p.Name));
    for (const name of ['Negotiate', 'Kerberos', 'NTLM', 'Schannel']) assert.ok(sync.packages.some((p) => p.Name === name), name);
    const info = await raw.QuerySecurityPackageInfoAsync('Kerberos');
    assert.equal(info.status, 0);
    assert.equal(info.info!.Name, 'Kerberos');
    assert.equal(raw.QuerySecurityPackageInfo('NoSuchPackage').status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND);
    assert.equal(raw.handleFigures().contextBuffersFreed - before, 3, 'two package lists and one SecPkgInfo freed');
  });

  it('pvLogonId: another logon session\'s credentials (a LUID)', () => {
    assert.throws(() => raw.AcquireCredentialsHandle(null, 'Kerberos', 2, 999 as never, null), /pvLogonId must be a bigint/);
    assert.throws(() => raw.AcquireCredentialsHandle(null, 'Kerberos', 2, 2n ** 64n, null), RangeError);
    // 0x3E7: the LUID of the SYSTEM logon session (SYSTEM_LUID, winnt.h).
    const r = raw.AcquireCredentialsHandle(null, 'Kerberos', 2, 0x3e7n, null);
    if (wineVersion()) {
      // Measured: Wine's Kerberos ignores pvLogonId (any LUID, SYSTEM's included, gives SEC_E_OK from the
      // process's MIT ticket cache, and SEC_E_NO_CREDENTIALS without one, exactly as with null): Wine
      // has no logon sessions to choose from.
      assert.equal(r.status, SECURITY_STATUS.SEC_E_OK, hex(r.status));
    } else {
      // "pvLogonId ... requires SeTcbPrivilege" for another session than the caller's
      // (https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-acquirecredentialshandlew); the
      // test process does not hold it.
      assert.ok(r.status >= 0x80000000, hex(r.status));
    }
    if (r.credential) raw.FreeCredentialsHandle(r.credential);
  });

  it('misuse: wrong types throw before any call; a busy context throws; statuses are never thrown', async () => {
    assert.throws(() => raw.FreeCredentialsHandle({} as never), TypeError);
    assert.throws(() => raw.DeleteSecurityContext(client as never), TypeError);
    assert.throws(() => raw.AcquireCredentialsHandle(null, 'Kerberos', 2, null, 'user' as never), TypeError);
    assert.throws(() => raw.CompleteAuthToken(raw.newCtxtHandle(), null as never), TypeError);
    const ctx = raw.newCtxtHandle();
    const pending = raw.InitializeSecurityContextAsync(client, ctx, bed.spn, REQ, DREP, null, [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }]);
    assert.throws(() => raw.ExportSecurityContext(ctx, 0), /in use by a pending asynchronous call/);
    assert.equal(raw.DeleteSecurityContext(ctx), undefined, 'deferred to the pending call');
    assert.equal((await pending).status, SECURITY_STATUS.SEC_I_CONTINUE_NEEDED);
    assert.equal(ctx.valid, false, 'deleted when the call ended');
    assert.throws(() => raw.ExportSecurityContext(ctx, 0), /has been deleted/);
    // A failure is a status: an unknown package, a garbage token.
    assert.equal(raw.AcquireCredentialsHandle(null, 'NoSuchPackage', 2, null, null).status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND);
    const bad = raw.AcceptSecurityContext(server, raw.newCtxtHandle(), [{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.from('garbage') }],
      0, DREP, [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 12000 }]);
    assert.ok(bad.status >= 0x80000000, hex(bad.status));
  });

  it('the facade\'s handles are the raw layer\'s: a facade context can be handed to raw calls', async () => {
    const { Credentials } = await import('../../lib/credentials');
    const { ClientContext } = await import('../../lib/context');
    using cred = await Credentials.acquire({ package: 'Kerberos' });
    using c = new ClientContext(cred, { targetName: bed.spn });
    await c.step();
    const r = raw.QueryContextAttributes(c.handle, SECPKG_ATTR.NEGOTIATION_INFO);
    assert.equal(r.status, 0);
    // The raw call deletes the facade's context; the facade's own dispose() then finds nothing to do.
    assert.equal(raw.DeleteSecurityContext(c.handle), 0);
    assert.equal(c.handle.valid, false);
    await assert.rejects(c.step(Buffer.from([0x6f])), /has been deleted/);
  });
});
