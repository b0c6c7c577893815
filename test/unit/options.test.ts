import { strict as assert } from 'node:assert';

import { ASC_REQ, ISC_REQ, SECURITY_DREP } from '../../lib/constants';
import { ClientContext, DEFAULT_ASC_REQ, DEFAULT_ISC_REQ, ServerContext } from '../../lib/context';
import { AcquireCredentialsOptions, Credentials } from '../../lib/credentials';

// Option validation of Credentials.acquire/acquireSync, ClientContext and ServerContext: options are
// own properties (nothing inherited is taken for an option), wrong types are TypeErrors, numbers out
// of range RangeErrors, before any SSPI call. Needs no domain: NTLM credentials of the current user.
describe('option validation', () => {
  let cred: Credentials;
  before(() => {
    cred = Credentials.acquireSync({ package: 'NTLM', use: 'both' });
  });
  after(() => cred?.dispose());

  const bad = (o: unknown): AcquireCredentialsOptions => o as AcquireCredentialsOptions;

  describe('Credentials.acquire / acquireSync', () => {
    const typeErrors: [string, unknown][] = [
      ['options missing', undefined],
      ['options null', null],
      ['options a string', 'NTLM'],
      ['options an array', ['NTLM']],
      ['package missing', {}],
      ['package a number', { package: 5 }],
      ['package empty', { package: '' }],
      ['package with a NUL', { package: 'NTLM\0junk' }],
      ['package inherited', Object.create({ package: 'NTLM' })],
      ["use '__proto__'", { package: 'NTLM', use: '__proto__' }],
      ["use 'toString'", { package: 'NTLM', use: 'toString' }],
      ["use 'constructor'", { package: 'NTLM', use: 'constructor' }],
      ["use 'sideways'", { package: 'NTLM', use: 'sideways' }],
      ['use a number', { package: 'NTLM', use: 1 }],
      ['principal a number', { package: 'NTLM', principal: 1 }],
      ['principal with a NUL', { package: 'NTLM', principal: 'a\0b' }],
      ['identity a string', { package: 'NTLM', identity: 'alice' }],
      ['identity null', { package: 'NTLM', identity: null }],
      ['identity without user', { package: 'NTLM', identity: { password: 'x' } }],
      ['identity.user inherited', { package: 'NTLM', identity: Object.assign(Object.create({ user: 'alice' }), { password: 'x' }) }],
      ['identity.password inherited', { package: 'NTLM', identity: Object.assign(Object.create({ password: 'x' }), { user: 'alice' }) }],
      ['identity.password a number', { package: 'NTLM', identity: { user: 'a', password: 1 } }],
      ['identity.domain a number', { package: 'NTLM', identity: { user: 'a', domain: 1, password: 'x' } }],
      ['packageList a number', { package: 'Negotiate', packageList: 1 }],
    ];
    for (const [label, options] of typeErrors) {
      it(`${label}: acquireSync throws TypeError; acquire returns a promise that rejects with TypeError`, async () => {
        assert.throws(() => Credentials.acquireSync(bad(options)), TypeError);
        let p: Promise<Credentials> | undefined;
        assert.doesNotThrow(() => { p = Credentials.acquire(bad(options)); }, 'acquire() never throws synchronously (its TSDoc: @rejects)');
        await assert.rejects(p!, TypeError);
      });
    }

    it('an inherited use is ignored: the default (outbound) applies', () => {
      const options = Object.assign(Object.create({ use: 'inbound' }), { package: 'NTLM' }) as AcquireCredentialsOptions;
      using c = Credentials.acquireSync(options);
      assert.equal(c.use, 'outbound');
    });

    it('a polluted Object.prototype is not taken for an option', () => {
      const proto = Object.prototype as Record<string, unknown>;
      proto.use = 'inbound';
      proto.identity = { user: 'mallory', password: 'x' };
      try {
        using c = Credentials.acquireSync({ package: 'NTLM' });
        assert.equal(c.use, 'outbound');
      } finally {
        delete proto.use;
        delete proto.identity;
      }
    });

    it('JSON.stringify(credentials) works and shows no handle or secret', () => {
      using c = Credentials.acquireSync({ package: 'NTLM', identity: { user: 'alice', domain: 'SSPI', password: 'S3cret-pw!' } });
      const json = JSON.stringify(c);
      assert.deepEqual(Object.keys(JSON.parse(json)).sort(), ['disposed', 'expiry', 'package', 'use']);
      assert.ok(!json.includes('S3cret-pw!') && !json.includes('alice'), json);
      assert.deepEqual(JSON.parse(json), { package: 'NTLM', use: 'outbound', expiry: c.expiry?.toISOString() ?? null, disposed: false });
    });
  });

  describe('ClientContext / ServerContext', () => {
    const isc = (o: unknown): ClientContext => new ClientContext(cred, o as never);
    const asc = (o: unknown): ServerContext => new ServerContext(cred, o as never);

    for (const [label, make] of [['ClientContext', isc], ['ServerContext', asc]] as const) {
      it(`${label}: wrong types are TypeErrors`, () => {
        for (const o of [null, 'x', 5, [1], { contextReq: '0x10' }, { contextReq: 10n }, { targetDataRep: 'native' },
          { allocateMemory: 1 }, { allocateMemory: 'yes' }]) {
          assert.throws(() => make(o), TypeError, JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
        }
      });

      it(`${label}: contextReq must be an integer 0..0xFFFFFFFF: RangeError otherwise`, () => {
        for (const contextReq of [-1, 1.5, NaN, Infinity, 0x100000000, 2 ** 53]) {
          assert.throws(() => make({ contextReq }), RangeError, String(contextReq));
        }
      });

      it(`${label}: targetDataRep other than NATIVE (0x10) / NETWORK (0) is a RangeError`, () => {
        for (const targetDataRep of [1, 0x11, -1]) assert.throws(() => make({ targetDataRep }), RangeError, String(targetDataRep));
        assert.equal(make({ targetDataRep: SECURITY_DREP.NETWORK }).targetDataRep, 0);
      });

      it(`${label}: options are own properties only`, () => {
        const inherited = Object.create({ contextReq: -1, targetDataRep: 'x', allocateMemory: 'x', targetName: 5 });
        const c = make(inherited);
        assert.equal(c.contextReq, label === 'ClientContext' ? DEFAULT_ISC_REQ : DEFAULT_ASC_REQ);
        assert.equal(c.targetDataRep, SECURITY_DREP.NATIVE);
      });
    }

    it('ClientContext: contextReq bits that are no ISC_REQ_* flag are a RangeError; every ISC_REQ_* flag is accepted', () => {
      assert.throws(() => isc({ contextReq: 0x80000000 }), RangeError);
      assert.throws(() => isc({ contextReq: ISC_REQ.MUTUAL_AUTH | 0x04000000 }), /0x4000000/);
      for (const v of Object.values(ISC_REQ)) if (typeof v === 'number') assert.equal(isc({ contextReq: v }).contextReq, v >>> 0);
    });

    it('ServerContext: contextReq bits that are no ASC_REQ_* flag are a RangeError; every ASC_REQ_* flag is accepted', () => {
      assert.throws(() => asc({ contextReq: 0x80000000 }), RangeError);
      assert.throws(() => asc({ contextReq: 0x00000080 }), RangeError, 'ISC_REQ_USE_SUPPLIED_CREDS has no ASC_REQ counterpart');
      for (const v of Object.values(ASC_REQ)) if (typeof v === 'number') assert.equal(asc({ contextReq: v }).contextReq, v >>> 0);
    });

    it('ClientContext: targetName must be a string without NUL characters', () => {
      assert.throws(() => isc({ targetName: 5 }), TypeError);
      assert.throws(() => isc({ targetName: 'HTTP/a\0b' }), TypeError);
      assert.equal(isc({ targetName: 'HTTP/www.sspi.test' }).targetName, 'HTTP/www.sspi.test');
    });

    it('allocateMemory adds ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY', () => {
      assert.equal(isc({ contextReq: 0, allocateMemory: true }).contextReq, ISC_REQ.ALLOCATE_MEMORY);
      assert.equal(asc({ contextReq: 0, allocateMemory: true }).contextReq, ASC_REQ.ALLOCATE_MEMORY);
    });

    it('step(): a token of the wrong type rejects (TypeError), it does not throw synchronously', async () => {
      using c = isc({});
      let p: Promise<unknown> | undefined;
      assert.doesNotThrow(() => { p = c.step('token' as never); });
      await assert.rejects(p!, TypeError);
    });

    it('JSON.stringify(context) works and shows no handle or token', () => {
      using c = isc({ targetName: 'HTTP/www.sspi.test' });
      const before = JSON.parse(JSON.stringify(c)) as Record<string, unknown>;
      assert.deepEqual(before, {
        package: 'NTLM', function: 'InitializeSecurityContext', complete: false, contextAttr: 0, expiry: null, disposed: false,
      });
      const first = c.stepSync();
      const json = JSON.stringify(c);
      assert.ok(!json.includes(first.token!.toString('hex')) && !json.includes(first.token!.toString('base64')), json);
      assert.deepEqual(Object.keys(JSON.parse(json)).sort(), ['complete', 'contextAttr', 'disposed', 'expiry', 'function', 'package']);
    });
  });
});
