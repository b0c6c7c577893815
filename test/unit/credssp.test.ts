/**
 * CredSSP (lib/credssp.ts) where it can be shown without the package: Wine's secur32 has none.
 *
 * Measured under Wine 10 (and linux-rig.md: "no CredSSP, Digest, WDigest or pku2u package
 * (SEC_E_SECPKG_NOT_FOUND)"): EnumerateSecurityPackagesW lists no CredSSP, QuerySecurityPackageInfoW
 * ('CredSSP') and AcquireCredentialsHandleW('CredSSP', ...) answer SEC_E_SECPKG_NOT_FOUND (winerror.h
 * 0x80090305, "The requested security package does not exist"), whatever pAuthData holds: Wine looks
 * the package up by name before it reads pAuthData (dlls/secur32/wrapper.c, AcquireCredentialsHandleW).
 *
 * On Microsoft's secur32 CredSSP exists from Windows Vista / Server 2008 on (Requirements of
 * https://learn.microsoft.com/en-us/windows/win32/secauthn/acquirecredentialshandle--credssp); there the
 * same checks assert that the package is listed and found, and test/windows/credssp.test.ts (the Windows
 * workflow) runs the handshake.
 *
 * The rest checks the facade's own logic, which needs no package: the fContextReq it passes, the input
 * buffers of each step, and what it refuses before any SSPI call.
 */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';

import { Certificate } from '../../lib/certificates';
import { CREDSSP_SUBMIT_TYPE, ISC_REQ, SCH_CRED, SECBUFFER, SECPKG_CRED, SECURITY_STATUS } from '../../lib/constants';
import { Credentials } from '../../lib/credentials';
import { SecurityContext, StepOptions, StepResult } from '../../lib/context';
import {
  CREDSSP_DOCUMENTED_ISC_REQ, CREDSSP_PACKAGE, CredSspClient, credSspContextReq, CredSspServer, credSspStepOptions,
  DEFAULT_CREDSSP_ASC_REQ, DEFAULT_CREDSSP_ISC_REQ, isCredSspPackage,
} from '../../lib/credssp';
import { SspiError, statusName } from '../../lib/errors';
import { enumerateSecurityPackages, querySecurityPackageInfo } from '../../lib/packages';
import { AcquireCredentialsHandle, AcquireCredentialsHandleAsync } from '../../lib/raw/credentials';
import { FreeCredentialsHandle } from '../../lib/raw/handles';
import { makeCertificate, makePfx } from '../support/certificates';
import { wineVersion } from '../support/wine';

const SECRET = 'Cr3dSSP-secret-never-in-errors-9Z';

/** The SspiError of a CredSSP call that found no package; its message and inspection hold no secret. */
function notFound(fn: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SspiError, `not an SspiError: ${String(e)}`);
    assert.equal(e.status, 0x80090305);
    assert.equal(e.status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND);
    assert.equal(e.code, 'SEC_E_SECPKG_NOT_FOUND');
    assert.equal(e.function, fn);
    assert.ok(!e.message.includes(SECRET) && !inspect(e).includes(SECRET) && !JSON.stringify(e).includes(SECRET), 'the password leaked into the error');
    return true;
  };
}

describe('CredSSP: the package', () => {
  const wine = wineVersion();

  it('EnumerateSecurityPackages and QuerySecurityPackageInfo agree: under Wine no CredSSP, on Windows the same CredSSP entry', () => {
    const listed = enumerateSecurityPackages().filter((p) => isCredSspPackage(p.Name));
    if (wine !== null) {
      // Wine 10: no CredSSP in its provider list (linux-rig.md), so the lookup by name fails too.
      assert.deepEqual(listed, []);
      for (const name of [CREDSSP_PACKAGE, 'CREDSSP', 'credssp']) assert.throws(() => querySecurityPackageInfo(name), notFound('QuerySecurityPackageInfo'));
    } else {
      // Microsoft's secur32: CredSSP is installed from Vista / Server 2008 on (credssp.h CREDSSP_NAME "CREDSSP").
      assert.equal(listed.length, 1, 'CredSSP listed once');
      const info = querySecurityPackageInfo(CREDSSP_PACKAGE);
      assert.ok(isCredSspPackage(info.Name), info.Name);
      assert.equal(info.cbMaxToken, listed[0].cbMaxToken);
      assert.equal(info.fCapabilities, listed[0].fCapabilities);
    }
  });

  it('AcquireCredentialsHandle(CredSSP) with null pAuthData: SEC_E_SECPKG_NOT_FOUND under Wine (returned by the raw layer, thrown by the facade), the package found on Windows', async () => {
    for (const use of [SECPKG_CRED.OUTBOUND, SECPKG_CRED.INBOUND]) {
      const sync = AcquireCredentialsHandle(null, CREDSSP_PACKAGE, use, null, null);
      const async = await AcquireCredentialsHandleAsync(null, CREDSSP_PACKAGE, use, null, null);
      for (const r of [sync, async]) {
        if (wine !== null) {
          assert.equal(r.status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND, `0x${r.status.toString(16)}`);
          assert.equal(r.credential, undefined);
        } else {
          // Microsoft's CredSSP exists; whether it accepts no pAuthData is its business (the page makes
          // pAuthData optional), so only "found" is asserted.
          assert.notEqual(r.status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND);
          if (r.credential) FreeCredentialsHandle(r.credential);
        }
      }
    }
    if (wine !== null) {
      await assert.rejects(Credentials.acquire({ package: CREDSSP_PACKAGE }), notFound('AcquireCredentialsHandle'));
      assert.throws(() => Credentials.acquireSync({ package: 'CREDSSP', use: 'inbound' }), notFound('AcquireCredentialsHandle'));
    }
  });

  it('AcquireCredentialsHandle(CredSSP) with a CREDSSP_CRED (Schannel credentials, a user and password): SEC_E_SECPKG_NOT_FOUND under Wine, the password in no part of the error', async function () {
    // Windows: CredSSP credentials and the handshake are test/windows/credssp.test.ts (the Windows workflow).
    if (wine === null) this.skip();
    const identity = { User: 'alice', Domain: 'SSPI', Password: SECRET };
    for (const pSchannelCred of [null, { dwVersion: 4 as const, dwFlags: SCH_CRED.MANUAL_CRED_VALIDATION }, { dwVersion: 5 as const }]) {
      const r = await AcquireCredentialsHandleAsync(null, CREDSSP_PACKAGE, SECPKG_CRED.OUTBOUND, null,
        { Type: CREDSSP_SUBMIT_TYPE.CredsspSubmitBufferBoth, pSchannelCred, pSpnegoCred: identity });
      assert.equal(r.status, SECURITY_STATUS.SEC_E_SECPKG_NOT_FOUND, `0x${r.status.toString(16)}`);
      assert.equal(r.credential, undefined);
    }
    // The facade's CREDSSP_CRED (lib/credentials.ts): the client's and a server's with a certificate.
    const user = { user: 'alice', domain: 'SSPI', password: SECRET };
    await assert.rejects(Credentials.acquire({ package: 'CredSSP', identity: user }), notFound('AcquireCredentialsHandle'));
    await assert.rejects(Credentials.acquire({ package: 'CredSSP', identity: user, schannel: { schannelCredVersion: 'SCHANNEL_CRED', manualValidation: true } }),
      notFound('AcquireCredentialsHandle'));
    using certificate = await Certificate.fromPfx(makePfx(makeCertificate('rsa-sha256'), SECRET), SECRET);
    await assert.rejects(Credentials.acquire({ package: 'CredSSP', use: 'inbound', schannel: { certificate } }), (e: unknown) => {
      notFound('AcquireCredentialsHandle')(e);
      assert.equal((e as SspiError).package, 'CredSSP');
      return true;
    });
    assert.ok(!certificate.disposed, 'the failed acquisition left the caller\'s certificate alone');
  });
});

describe('CredSSP: the facade before any SSPI call', () => {
  it('fContextReq: the default set, ISC_REQ_MANUAL_CRED_VALIDATION always, USE_SUPPLIED_CREDS with package parameters', () => {
    assert.equal(credSspContextReq(undefined, false), DEFAULT_CREDSSP_ISC_REQ);
    for (const bit of [ISC_REQ.MANUAL_CRED_VALIDATION, ISC_REQ.DELEGATE, ISC_REQ.STREAM, ISC_REQ.SEQUENCE_DETECT, ISC_REQ.EXTENDED_ERROR]) {
      assert.ok(DEFAULT_CREDSSP_ISC_REQ & bit, `default lacks 0x${bit.toString(16)}`);
    }
    assert.equal(DEFAULT_CREDSSP_ISC_REQ & ISC_REQ.ALLOCATE_MEMORY, 0, 'the facade supplies output buffers unless allocateMemory');
    assert.equal(credSspContextReq(ISC_REQ.DELEGATE, false), ISC_REQ.DELEGATE | ISC_REQ.MANUAL_CRED_VALIDATION);
    assert.equal(credSspContextReq(0, true), ISC_REQ.USE_SUPPLIED_CREDS | ISC_REQ.MANUAL_CRED_VALIDATION);
    assert.throws(() => credSspContextReq(ISC_REQ.USE_SUPPLIED_CREDS, false), /SECBUFFER_PKG_PARAMS/);
    assert.throws(() => credSspContextReq('1' as unknown as number, false), TypeError);
    // Malformed numbers pass through unchanged, for ClientContext to refuse with a RangeError.
    assert.equal(credSspContextReq(-1, false), -1);
    assert.equal(credSspContextReq(1.5, false), 1.5);
    // Every flag the page lists is an ISC_REQ_* bit of sspi.h.
    assert.equal(CREDSSP_DOCUMENTED_ISC_REQ, 0x100 + 0x800 + 0x4000 + 0x80000 + 0x8 + 0x8000 + 0x80 + 0x1 + 0x2); // the values the page prints
  });

  it('step input: nothing on the first step; TOKEN then SECBUFFER_EMPTY after; PKG_PARAMS next; the caller\'s buffers last', () => {
    assert.deepEqual(credSspStepOptions(undefined, undefined, undefined), { inputBuffers: [] });
    const token = Buffer.from('server token');
    const params = Buffer.from([1, 2, 3]);
    const alert = { BufferType: SECBUFFER.ALERT, cbBuffer: 64 };
    const mine = { BufferType: SECBUFFER.APPLICATION_PROTOCOLS, pvBuffer: Buffer.from([9]) };
    assert.deepEqual(credSspStepOptions(token, params, { inputBuffers: [mine], outputBuffers: [alert], channelBindings: null }), {
      inputBuffers: [{ BufferType: SECBUFFER.EMPTY }, { BufferType: SECBUFFER.PKG_PARAMS, pvBuffer: params }, mine],
      outputBuffers: [alert],
      channelBindings: null,
    });
    assert.deepEqual(credSspStepOptions(undefined, params, undefined), { inputBuffers: [{ BufferType: SECBUFFER.PKG_PARAMS, pvBuffer: params }] });
    // Malformed options are handed on unchanged, for the step to refuse with a TypeError.
    assert.equal(credSspStepOptions(token, undefined, 'x' as never), 'x');
    const bad = { inputBuffers: 'x' } as never;
    assert.equal(credSspStepOptions(token, undefined, bad), bad);
  });

  it('refuses credentials of another package (or no Credentials at all) with a TypeError, before any SSPI call', () => {
    using ntlm = Credentials.acquireSync({ package: 'NTLM', use: 'inbound' });
    assert.throws(() => new CredSspClient(ntlm), /acquired for the CredSSP package .* not NTLM/);
    assert.throws(() => new CredSspServer(ntlm), /acquired for the CredSSP package .* not NTLM/);
    assert.throws(() => new CredSspClient({ package: 'CredSSP' } as unknown as Credentials), /must be a Credentials object/);
    assert.throws(() => new CredSspServer(null as unknown as Credentials), TypeError);
  });
});

/*
 * SEC_I_INCOMPLETE_CREDENTIALS cannot be produced here: Wine has no CredSSP, and Wine 10's Schannel
 * server never asks for a client certificate (measured: with ASC_REQ_MUTUAL_AUTH, its handshake with a
 * certificate-less client completes, SEC_E_OK on both sides). So these tests replace the one SSPI step
 * underneath (SecurityContext.prototype.step, restored after each test) with a script of results, and
 * check what CredSspClient does with them: what the page prescribes ("calling InitializeSecurityContext
 * (CredSSP) again, specifying the new credential in the phCredential parameter").
 */
describe('CredSspClient on SEC_I_INCOMPLETE_CREDENTIALS (the SSPI step scripted: Wine cannot return it)', () => {
  const INCOMPLETE = SECURITY_STATUS.SEC_I_INCOMPLETE_CREDENTIALS;
  const CONTINUE = SECURITY_STATUS.SEC_I_CONTINUE_NEEDED;
  const realStep = SecurityContext.prototype.step;
  const realStepSync = SecurityContext.prototype.stepSync;
  let backing: Credentials;
  let calls: { token: Uint8Array | undefined; options: StepOptions | undefined; credentials: Credentials }[];

  /** Credentials that say 'CredSSP', over a real handle of another package (nothing is sent through it). */
  function credSspLike(): Credentials {
    const fake = Object.create(Credentials.prototype) as Credentials;
    Object.defineProperties(fake, { handle: { value: backing.handle }, package: { value: 'CredSSP' }, use: { value: 'outbound' } });
    return fake;
  }

  /** The step answers with these statuses in turn. */
  function script(...statuses: number[]): void {
    const answer = (context: SecurityContext, token: Uint8Array | undefined, options: StepOptions | undefined): StepResult => {
      calls.push({ token, options, credentials: context.credentials });
      const status = statuses.shift();
      assert.ok(status !== undefined, 'more steps than scripted');
      return { status, code: statusName(status), token: Buffer.from('client token'), complete: false, contextAttr: 0, expiryTimeStamp: 0n,
        input: [], output: [], extraBytes: undefined, missingBytes: undefined, alert: undefined };
    };
    SecurityContext.prototype.step = async function (this: SecurityContext, token?: Uint8Array, options?: StepOptions) {
      return answer(this, token, options);
    };
    SecurityContext.prototype.stepSync = function (this: SecurityContext, token?: Uint8Array, options?: StepOptions) {
      return answer(this, token, options);
    };
  }

  beforeEach(() => {
    backing = Credentials.acquireSync({ package: 'NTLM', use: 'inbound' });
    calls = [];
  });
  afterEach(() => {
    SecurityContext.prototype.step = realStep;
    SecurityContext.prototype.stepSync = realStepSync;
    backing.dispose();
  });

  it('calls onIncompleteCredentials, then steps again with the same server token on the credentials it returned', async () => {
    const first = credSspLike();
    const second = credSspLike();
    const seen: [CredSspClient, StepResult][] = [];
    const client = new CredSspClient(first, { onIncompleteCredentials: async (c, r) => { seen.push([c, r]); return second; } });
    script(INCOMPLETE, CONTINUE);
    const token = Buffer.from('server hello');
    const r = await client.step(token);
    assert.equal(r.status, CONTINUE);
    assert.equal(seen.length, 1);
    assert.equal(seen[0][0], client);
    assert.equal(seen[0][1].status, INCOMPLETE);
    assert.deepEqual(calls.map((c) => [c.token, c.credentials]), [[token, first], [token, second]]);
    for (const c of calls) assert.deepEqual(c.options?.inputBuffers, [{ BufferType: SECBUFFER.EMPTY }]);
    assert.equal(client.credentials, second, 'the context continues on the new phCredential');
  });

  it('without a handler: an SspiError with the status, code and function, and no second call', async () => {
    const client = new CredSspClient(credSspLike());
    script(INCOMPLETE);
    await assert.rejects(client.step(Buffer.from('server hello')), (e: unknown) => {
      assert.ok(e instanceof SspiError);
      assert.equal(e.status, 0x00090320);
      assert.equal(e.code, 'SEC_I_INCOMPLETE_CREDENTIALS');
      assert.equal(e.function, 'InitializeSecurityContext');
      assert.equal(e.package, 'CredSSP');
      return true;
    });
    assert.equal(calls.length, 1);
  });

  it('gives up after 3 new credentials the server does not take; refuses a handler result that is not CredSSP credentials', async () => {
    const client = new CredSspClient(credSspLike(), { onIncompleteCredentials: () => credSspLike() });
    script(INCOMPLETE, INCOMPLETE, INCOMPLETE, INCOMPLETE);
    await assert.rejects(client.step(Buffer.from('x')), (e: unknown) => e instanceof SspiError && e.status === INCOMPLETE && /3 times/.test(e.message));
    assert.equal(calls.length, 4);

    const wrong = new CredSspClient(credSspLike(), { onIncompleteCredentials: () => backing });
    script(INCOMPLETE);
    await assert.rejects(wrong.step(Buffer.from('x')), /must be acquired for the CredSSP package .* not NTLM/);
  });

  it('stepSync: the same retry with a synchronous handler; a promise from the handler is a TypeError', () => {
    const next = credSspLike();
    const client = new CredSspClient(credSspLike(), { onIncompleteCredentials: () => next });
    script(INCOMPLETE, CONTINUE);
    assert.equal(client.stepSync(Buffer.from('x')).status, CONTINUE);
    assert.equal(client.credentials, next);

    const asyncHandler = new CredSspClient(credSspLike(), { onIncompleteCredentials: async () => next });
    script(INCOMPLETE);
    assert.throws(() => asyncHandler.stepSync(Buffer.from('x')), /returned a promise to stepSync/);
  });

  it('options CredSSP takes none of: channelBindings, packageParameters that are not bytes, a handler that is not a function', () => {
    const cred = credSspLike();
    assert.throws(() => new CredSspClient(cred, { channelBindings: Buffer.alloc(1) } as never), /takes no SEC_CHANNEL_BINDINGS/);
    assert.throws(() => new CredSspServer(cred, { channelBindings: Buffer.alloc(1) } as never), /takes no SEC_CHANNEL_BINDINGS/);
    assert.throws(() => new CredSspClient(cred, { packageParameters: 'abc' as never }), /packageParameters must be a Buffer/);
    assert.throws(() => new CredSspClient(cred, { onIncompleteCredentials: 42 as never }), /must be a function/);
    assert.throws(() => new CredSspClient(cred, { contextReq: ISC_REQ.USE_SUPPLIED_CREDS }), /SECBUFFER_PKG_PARAMS/);
    assert.throws(() => new CredSspClient(cred, { contextReq: 0x80000000 }), RangeError);
    const client = new CredSspClient(cred, { packageParameters: Buffer.from([7]), contextReq: ISC_REQ.DELEGATE });
    assert.equal(client.contextReq, ISC_REQ.DELEGATE | ISC_REQ.USE_SUPPLIED_CREDS | ISC_REQ.MANUAL_CRED_VALIDATION);
    assert.deepEqual(client.packageParameters, new Uint8Array([7]));
    const server = new CredSspServer(cred);
    assert.equal(server.contextReq, DEFAULT_CREDSSP_ASC_REQ);
  });
});
