import { strict as assert } from 'node:assert';

import { Credentials } from '../../lib/credentials';
import { SspiError } from '../../lib/errors';
import { enumerateSecurityPackages, querySecurityPackageInfo } from '../../lib/packages';

describe('security packages', () => {
  it('EnumerateSecurityPackagesW lists Negotiate, Kerberos and NTLM with their cbMaxToken', () => {
    const packages = enumerateSecurityPackages();
    const names = packages.map((p) => p.Name);
    for (const want of ['Negotiate', 'Kerberos', 'NTLM']) assert.ok(names.includes(want), `${want} missing from ${names.join(', ')}`);
    for (const p of packages) {
      assert.equal(typeof p.Comment, 'string');
      assert.ok(p.cbMaxToken > 0, `${p.Name} cbMaxToken ${p.cbMaxToken}`);
    }
  });

  it('QuerySecurityPackageInfoW agrees with the enumeration', () => {
    for (const p of enumerateSecurityPackages().filter((x) => ['Negotiate', 'Kerberos', 'NTLM'].includes(x.Name))) {
      const info = querySecurityPackageInfo(p.Name);
      assert.equal(info.Name, p.Name);
      assert.equal(info.cbMaxToken, p.cbMaxToken);
      assert.equal(info.fCapabilities, p.fCapabilities);
    }
  });

  it('an unknown package is SEC_E_SECPKG_NOT_FOUND (0x80090305) from QuerySecurityPackageInfo', () => {
    assert.throws(() => querySecurityPackageInfo('NoSuchPackage'), (e: unknown) => {
      assert.ok(e instanceof SspiError);
      assert.equal(e.status, 0x80090305);
      assert.equal(e.code, 'SEC_E_SECPKG_NOT_FOUND');
      assert.equal(e.function, 'QuerySecurityPackageInfo');
      return true;
    });
  });

  it('an unknown package is SEC_E_SECPKG_NOT_FOUND from AcquireCredentialsHandle, sync and async', async () => {
    const check = (e: unknown): boolean => {
      assert.ok(e instanceof SspiError);
      assert.equal(e.status, 0x80090305);
      assert.equal(e.code, 'SEC_E_SECPKG_NOT_FOUND');
      assert.equal(e.function, 'AcquireCredentialsHandle');
      assert.equal(e.package, 'NoSuchPackage');
      return true;
    };
    assert.throws(() => Credentials.acquireSync({ package: 'NoSuchPackage' }), check);
    await assert.rejects(Credentials.acquire({ package: 'NoSuchPackage', use: 'inbound' }), check);
  });

  it('a package name that is not a string is a TypeError', () => {
    assert.throws(() => querySecurityPackageInfo(42 as unknown as string), TypeError);
    assert.throws(() => Credentials.acquireSync({ package: undefined as unknown as string }), TypeError);
  });
});
