import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as constants from '../../lib/constants';
import { isSuccess, SspiError, statusName } from '../../lib/errors';
import { native } from '../../lib/native';
import { testBed } from '../support/env';

/** Every file under `dir` whose name ends with `ext`, recursively. */
function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p, ext));
    else if (entry.name.endsWith(ext)) out.push(p);
  }
  return out;
}

/**
 * The test sources: the .ts files of the repository the test bed names (repoDir). The Windows
 * workflow runs this file from an installed package without a test-bed config and without the .ts
 * sources; there the compiled tests next to this file (dist/test, which keep every string and
 * comment) are read instead.
 */
function testSources(): { dir: string; files: string[] } {
  if (process.env.SSPI_TEST_CONFIG) {
    const dir = path.join(testBed().repoDir, 'test');
    return { dir, files: filesUnder(dir, '.ts') };
  }
  const dir = path.join(__dirname, '..');
  return { dir, files: filesUnder(dir, '.js') };
}

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

  it('every SEC_E_* / SEC_I_* name the test sources use exists in lib/constants.ts (so in sspi.h / winerror.h)', () => {
    // A Windows expectation naming a status no header defines (a "replay detected" status was one) can
    // never pass on Microsoft's secur32. Read the test sources themselves from the repository.
    const { dir: testDir, files } = testSources();
    assert.ok(files.length > 5, `only ${files.length} test sources under ${testDir}`);
    const unknown = new Set<string>();
    for (const file of files) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bSEC_[EI]_[A-Z0-9_]+/g)) {
        if (!(m[0] in constants.SECURITY_STATUS)) unknown.add(`${m[0]} (${path.relative(testDir, file)})`);
      }
    }
    assert.deepEqual([...unknown], []);
  });
});
