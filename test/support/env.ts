/**
 * What the tests know about the test bed, from the JSON file scripts/test.sh writes
 * ($SSPI_TEST_CONFIG): the Samba domain's names and test accounts. A JSON file rather than
 * environment variables, because the non-ASCII user's name and password must reach Windows node.exe
 * under Wine byte-exact (UTF-8), whatever the locale.
 */
import * as fs from 'node:fs';

export interface TestBed {
  realm: string;
  domain: string;
  host: string;
  spn: string;
  users: { name: string; password: string }[];
  /** A credential cache holding a TGT for users[0] (kinit), also exported as KRB5CCNAME. */
  ccache: string;
  stateDir: string;
  repoDir: string;
}

let bed: TestBed | undefined;

export function testBed(): TestBed {
  if (bed) return bed;
  const file = process.env.SSPI_TEST_CONFIG;
  if (!file) throw new Error('SSPI_TEST_CONFIG is not set: run the suites through `npm test` (scripts/test.sh)');
  bed = JSON.parse(fs.readFileSync(file, 'utf8')) as TestBed;
  return bed;
}
