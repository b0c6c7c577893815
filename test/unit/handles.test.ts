import { strict as assert } from 'node:assert';

import { ISC_REQ, SECBUFFER, SECPKG_ATTR } from '../../lib/constants';
import { ClientContext, ServerContext } from '../../lib/context';
import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { native } from '../../lib/native';
import * as raw from '../../lib/raw';

// API misuse must give clear errors, never a crash. These need no domain: NTLM client credentials
// for the current user and a first InitializeSecurityContext (NEGOTIATE_MESSAGE) work offline.
describe('handles and misuse', () => {
  const n = native();

  it('a CredHandle cannot be constructed or forged from JavaScript', () => {
    assert.throws(() => new n.CredHandle(), TypeError);
    assert.throws(() => new (n.CredHandle as unknown as new (x: unknown) => unknown)({}), TypeError);
    assert.throws(() => new (n.CtxtHandle as unknown as new (x: unknown) => unknown)(1), TypeError);
  });

  it('rejects objects that are not the expected handle type', () => {
    const ctxt = new n.CtxtHandle();
    const output = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 1904 }];
    // A CtxtHandle, a look-alike with the right prototype, and a plain object, where a CredHandle goes.
    const fake = Object.create(Object.getPrototypeOf(ctxt));
    for (const bad of [ctxt, fake, {}, 'handle', 42]) {
      assert.throws(() => raw.AcceptSecurityContext(bad as never, new n.CtxtHandle(), null, 0, 0x10, output), {
        name: 'TypeError', message: 'phCredential must be a CredHandle',
      });
    }
    const cred = Credentials.acquireSync({ package: 'NTLM' });
    try {
      assert.throws(() => raw.InitializeSecurityContext(cred.handle, cred.handle as never, null, 0, 0x10, null, output), {
        name: 'TypeError', message: 'phContext must be a CtxtHandle',
      });
    } finally {
      cred.dispose();
    }
  });

  // Defect 2 (issue 6): prototype members called with another receiver. Today's accessors unwrapped
  // `this` unchecked: CtxtHandle's `valid` getter on a CredHandle read the CredHandle's memory as a
  // CtxtHandle (a wrong `true`), on a plain object it threw a bare Error "Invalid argument". Every
  // member now checks the receiver's type tag and throws a TypeError; the real handles are unharmed.
  it('every method and accessor refuses a receiver of the wrong class with a TypeError', () => {
    const cred = Credentials.acquireSync({ package: 'NTLM' });
    const client = new ClientContext(cred);
    client.stepSync();
    const ctxt = client.handle;
    try {
      const credProto = n.CredHandle.prototype as object;
      const ctxtProto = n.CtxtHandle.prototype as object;
      const getter = (proto: object): ((this: unknown) => unknown) => Object.getOwnPropertyDescriptor(proto, 'valid')!.get!;
      const free = (credProto as { free: (this: unknown) => unknown }).free;
      const del = (ctxtProto as { delete: (this: unknown) => unknown }).delete;
      class Sub extends (n.CtxtHandle as unknown as new () => object) {}
      const others = (own: object): [string, unknown][] => [
        ['a plain object', {}],
        ['Object.create(prototype)', Object.create(own)],
        ['null', null],
        ['undefined', undefined],
        ['a number', 42],
        ['a function', () => 0],
      ];
      const cases: [string, () => unknown, RegExp][] = [
        ['CtxtHandle valid getter on a CredHandle', () => getter(ctxtProto).call(cred.handle), /CtxtHandle\.prototype\.valid called on an object that is not a CtxtHandle/],
        ['CredHandle valid getter on a CtxtHandle', () => getter(credProto).call(ctxt), /CredHandle\.prototype\.valid called on an object that is not a CredHandle/],
        ['CtxtHandle delete on a CredHandle', () => del.call(cred.handle), /./],
        ['CredHandle free on a CtxtHandle', () => free.call(ctxt), /./],
        ['CredHandle valid getter on a CtxtHandle subclass instance', () => getter(credProto).call(new Sub()), /not a CredHandle/],
        ...others(ctxtProto).flatMap(([what, other]): [string, () => unknown, RegExp][] => [
          [`CtxtHandle valid getter on ${what}`, () => getter(ctxtProto).call(other), /./],
          [`CtxtHandle delete on ${what}`, () => del.call(other), /./],
        ]),
        ...others(credProto).flatMap(([what, other]): [string, () => unknown, RegExp][] => [
          [`CredHandle valid getter on ${what}`, () => getter(credProto).call(other), /./],
          [`CredHandle free on ${what}`, () => free.call(other), /./],
        ]),
      ];
      for (const [what, call, message] of cases) {
        assert.throws(call, (e: unknown) => e instanceof TypeError && message.test(e.message), what);
      }
      // A subclass instance is a CtxtHandle: its members work.
      assert.equal(getter(ctxtProto).call(new Sub()), false);
      // Nothing was freed or deleted by the refused calls.
      assert.equal(cred.handle.valid, true);
      assert.equal(ctxt.valid, true);
      assert.ok(client.sizes().cbMaxToken > 0);
    } finally {
      client.dispose();
      cred.dispose();
    }
  });

  // Defect 9 (issue 6): the password is read straight into one native buffer that is wiped on every
  // path (src-native/util.cc Secret), a throw while a later field is parsed included. Freed memory
  // cannot be read from JavaScript, so what is tested here is what can be seen: every way the call can
  // fail with a password given throws a TypeError that does not carry the password, nothing is
  // acquired or queued (the throw comes before the call is queued: the queue's figures do not move),
  // and the same password then works.
  it('acquireCredentialsHandle with a password: every argument error is a TypeError without the secret, and nothing runs', async () => {
    const password = 'Pw-0f-the-test-\u00e9\u4e2d';
    const identity = { User: 'nobody', Domain: 'NOWHERE', Password: password };
    const before = n.queueFigures();
    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['a PackageList that is not a string', { ...identity, PackageList: 5 }, /pAuthData\.PackageList must be a string/],
      ['a PackageList getter that throws', { ...identity, get PackageList(): never { throw new TypeError('PackageList getter'); } }, /PackageList getter/],
      ['a PackageList with a NUL', { ...identity, PackageList: 'NTLM\0' }, /pAuthData\.PackageList must not contain NUL/],
      ['a Password with a NUL', { ...identity, Password: `${password}\0x` }, /pAuthData\.Password must not contain NUL/],
      ['a Password that is not a string', { ...identity, Password: 1234 }, /pAuthData\.Password must be a string/],
    ];
    for (const async of [false, true]) {
      for (const [what, authData, message] of bad) {
        const acquire = async ? raw.AcquireCredentialsHandleAsync : raw.AcquireCredentialsHandle;
        assert.throws(() => acquire(null, 'Negotiate', 2, null, authData as never), (e: unknown) =>
          e instanceof TypeError && message.test(e.message) && !e.message.includes(password) && !String(e.stack).includes(password), what);
      }
    }
    const after = n.queueFigures();
    assert.equal(after.completed + after.queued + after.running, before.completed + before.queued + before.running, 'nothing was queued');
    // SSPI's own failure with a password: a status, no handle.
    const unknown = await raw.AcquireCredentialsHandleAsync(null, 'NoSuchPackage', 2, null, identity);
    assert.equal(unknown.status, 0x80090305); // SEC_E_SECPKG_NOT_FOUND (winerror.h)
    assert.equal(unknown.credential, undefined);
    // The same password, well formed: an NTLM client credential (acquired offline; checked by the DC
    // only in a handshake).
    for (const async of [false, true]) {
      const r = await (async ? raw.AcquireCredentialsHandleAsync : raw.AcquireCredentialsHandle)(null, 'NTLM', 2, null, identity);
      assert.equal(r.status, 0);
      assert.equal(r.credential!.free(), 0);
    }
  });

  it('rejects malformed SecBuffer arrays with TypeError / RangeError', () => {
    const cred = Credentials.acquireSync({ package: 'NTLM' });
    try {
      const isc = (input: unknown, output: unknown): unknown =>
        raw.InitializeSecurityContext(cred.handle, new n.CtxtHandle(), null, 0, 0x10, input as never, output as never);
      const token = (cbBuffer: number): unknown => [{ BufferType: SECBUFFER.TOKEN, cbBuffer }];
      assert.throws(() => isc(null, 'x'), TypeError);
      assert.throws(() => isc(null, [{ BufferType: 'token', cbBuffer: 10 }]), TypeError);
      assert.throws(() => isc(null, [42]), TypeError);
      assert.throws(() => isc(null, token(-1)), RangeError);
      assert.throws(() => isc(null, token(1.5)), RangeError);
      assert.throws(() => isc([{ BufferType: SECBUFFER.TOKEN, pvBuffer: 'abc' }], token(10)), TypeError);
      assert.throws(() => isc([{ BufferType: SECBUFFER.TOKEN, pvBuffer: new Uint16Array(2) }], token(10)), TypeError);
      assert.throws(() => isc([{ BufferType: SECBUFFER.TOKEN, pvBuffer: Buffer.alloc(4), cbBuffer: 5 }], token(10)), RangeError);
      assert.throws(() => isc(new Array(17).fill({ BufferType: 0 }), token(10)), RangeError);
      assert.throws(() => isc(null, token(2 ** 30)), RangeError);
    } finally {
      cred.dispose();
    }
  });

  it('dispose() is idempotent and a disposed handle cannot be used', async () => {
    const cred = Credentials.acquireSync({ package: 'NTLM' });
    assert.equal(cred.disposed, false);
    cred.dispose();
    cred.dispose();
    assert.equal(cred.disposed, true);
    assert.throws(() => new ClientContext(cred).stepSync(), /has been freed/);
    await assert.rejects(async () => new ServerContext(cred).step(Buffer.from('x')), /has been freed/);
  });

  it('Symbol.dispose frees credentials and contexts at the end of a scope', () => {
    let cred: Credentials;
    let client: ClientContext;
    {
      using c = Credentials.acquireSync({ package: 'NTLM' });
      using x = new ClientContext(c);
      x.stepSync();
      assert.equal(x.handle.valid, true);
      cred = c;
      client = x;
    }
    assert.equal(cred.disposed, true);
    assert.equal(client.disposed, true);
    assert.equal(client.handle.valid, false);
  });

  it('a context takes one call at a time; a second step while one is pending throws', async () => {
    using cred = await Credentials.acquire({ package: 'NTLM' });
    using client = new ClientContext(cred);
    const first = client.step();
    assert.throws(() => client.stepSync(), /in use by a pending asynchronous call/);
    const r = await first;
    assert.equal(r.code, 'SEC_I_CONTINUE_NEEDED');
    assert.ok(r.token && r.token.subarray(0, 8).toString('latin1') === 'NTLMSSP\0', 'an NTLM NEGOTIATE_MESSAGE');
  });

  it('dispose() during a pending step waits for it, then deletes the context', async () => {
    const cred = await Credentials.acquire({ package: 'NTLM' });
    const client = new ClientContext(cred);
    const pending = client.step();
    client.dispose();
    cred.dispose();
    const r = await pending; // the call still completes with its handles alive
    assert.equal(r.code, 'SEC_I_CONTINUE_NEEDED');
    assert.equal(client.handle.valid, false);
    assert.equal(cred.handle.valid, false);
  });

  it('garbage collection neither frees the handles of a pending call nor crashes on unreachable ones', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    assert.equal(typeof gc, 'function', 'scripts/test.sh runs node.exe with --expose-gc');
    // No JavaScript reference to the CredHandle or the CtxtHandle survives this expression: the
    // objects may be collected, and only the pending call's share of their native state keeps the SSPI
    // handles alive (freed when the call ends).
    const output = [{ BufferType: SECBUFFER.TOKEN, cbBuffer: 1904 }];
    const pending = raw.InitializeSecurityContextAsync(Credentials.acquireSync({ package: 'NTLM' }).handle, new n.CtxtHandle(), null,
      ISC_REQ.CONNECTION, 0x10, null, output);
    for (let i = 0; i < 5; i++) {
      gc!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const r = await pending;
    assert.equal(r.status, 0x00090312);
    assert.equal(raw.bytesOf(output[0]).subarray(0, 8).toString('latin1'), 'NTLMSSP\0');
    // Handles nobody disposed are freed by their finalizers.
    for (let i = 0; i < 200; i++) new ClientContext(Credentials.acquireSync({ package: 'NTLM' })).stepSync();
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
    gc!();
  });

  it('wrong JavaScript types are TypeErrors before any SSPI call', () => {
    using cred = Credentials.acquireSync({ package: 'NTLM' });
    assert.throws(() => new ClientContext(cred).stepSync('token' as never), TypeError);
    assert.throws(() => new ClientContext({} as never), TypeError);
    assert.throws(() => new ClientContext(cred, { targetName: 5 as never }), TypeError);
    assert.throws(() => Credentials.acquireSync({ package: 'NTLM', identity: { user: 'a', password: 1 as never } }), TypeError);
    assert.throws(() => Credentials.acquireSync({ package: 'NTLM', use: 'sideways' as never }), TypeError);
  });

  it('QueryContextAttributes before the first step is SEC_E_INVALID_HANDLE; unknown attributes are RangeErrors', () => {
    using cred = Credentials.acquireSync({ package: 'NTLM' });
    using client = new ClientContext(cred);
    assert.throws(() => client.sizes(), (e: unknown) => e instanceof SspiError && e.code === 'SEC_E_INVALID_HANDLE' && e.status === 0x80090301);
    client.stepSync();
    assert.throws(() => client.queryAttribute(SECPKG_ATTR.PROTO_INFO as never), RangeError);
  });

  it('a step after completion or on a disposed context is an Error, not a crash', () => {
    using cred = Credentials.acquireSync({ package: 'NTLM' });
    const client = new ClientContext(cred, { contextReq: ISC_REQ.CONNECTION });
    client.dispose();
    assert.throws(() => client.stepSync(), /disposed/);
  });
});
