import { strict as assert } from 'node:assert';

import * as constants from '../../lib/constants';
import { isSuccess, SspiError, statusName } from '../../lib/errors';
import { native } from '../../lib/native';

/** Every `enum NAME { MEMBER = value }` of lib/constants.ts as the header name the SDK uses. */
function tsConstants(): Map<string, number> {
  const out = new Map<string, number>();
  for (const [enumName, e] of Object.entries(constants)) {
    for (const [member, value] of Object.entries(e as Record<string, unknown>)) {
      if (typeof value !== 'number') continue; // numeric enums also map value -> name
      if (enumName === 'SECURITY_STATUS') out.set(member, value);
      else if (enumName === 'SECURITY_DREP') out.set(`SECURITY_${member}_DREP`, value);
      else out.set(`${enumName}_${member.replace(/^_/, '')}`, value);
    }
  }
  return out;
}

describe('constants (lib/constants.ts against sspi.h / winerror.h)', () => {
  const header = native().headerConstants;
  const ts = tsConstants();

  it('the addon was compiled with every constant the facade defines', () => {
    const missing = [...ts.keys()].filter((name) => !(name in header));
    assert.deepEqual(missing, []);
    assert.ok(ts.size > 250, `only ${ts.size} constants`);
  });

  it('every value equals the header value', () => {
    const wrong = [...ts].filter(([name, value]) => header[name] !== value).map(([n, v]) => `${n}: ts ${v} header ${header[n]}`);
    assert.deepEqual(wrong, []);
  });

  it('uses the SDK value of SEC_E_INVALID_HANDLE, not the docs misprint 0x80100003', () => {
    assert.equal(constants.SECURITY_STATUS.SEC_E_INVALID_HANDLE, 0x80090301);
    assert.equal(header.SEC_E_INVALID_HANDLE, 0x80090301);
  });

  it('names statuses and classifies success', () => {
    assert.equal(statusName(0x8009030c), 'SEC_E_LOGON_DENIED');
    assert.equal(statusName(0x00090312), 'SEC_I_CONTINUE_NEEDED');
    assert.equal(statusName(-2146893044), 'SEC_E_LOGON_DENIED'); // the signed LONG form
    assert.equal(statusName(0x12345678), '0x12345678');
    assert.equal(isSuccess(0), true);
    assert.equal(isSuccess(0x00090312), true);
    assert.equal(isSuccess(0x80090305), false);
  });

  it('SspiError carries status, code and function', () => {
    const e = new SspiError(0x80090305, 'QuerySecurityPackageInfo', { package: 'Nope' });
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'SspiError');
    assert.equal(e.status, 0x80090305);
    assert.equal(e.code, 'SEC_E_SECPKG_NOT_FOUND');
    assert.equal(e.function, 'QuerySecurityPackageInfo');
    assert.equal(e.package, 'Nope');
    assert.match(e.message, /^QuerySecurityPackageInfo \(Nope\) failed: SEC_E_SECPKG_NOT_FOUND \(0x80090305\)/);
  });
});
