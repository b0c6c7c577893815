import { strict as assert } from 'node:assert';

import { MAXTIMEQUADPART, timeStampToDate } from '../../lib/time';

/** 100-ns intervals between 1601-01-01 and 1970-01-01. */
const EPOCH_DIFF = 116444736000000000n;

/** The TimeStamp a package writes for `date` in LOCAL time: this process's wall clock at that instant. */
function localTimeStamp(date: Date): bigint {
  const wall = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate(), date.getHours(), date.getMinutes(),
    date.getSeconds(), date.getMilliseconds());
  return BigInt(wall) * 10000n + EPOCH_DIFF;
}

function utcTimeStamp(date: Date): bigint {
  return BigInt(date.getTime()) * 10000n + EPOCH_DIFF;
}

// lib/time.ts: the one conversion of SSPI TimeStamps. Run this file with another TZ (node.exe under
// Wine maps TZ to its time zone) to see the local-time half bite: e.g. TZ=Asia/Tokyo or
// TZ=America/New_York.
describe('TimeStamp conversion (lib/time.ts)', () => {
  it('MAXTIMEQUADPART (0x7FFFFF36D5969FFF), what Microsoft packages return for "never", is null, not year 30828', () => {
    assert.equal(MAXTIMEQUADPART, 0x7fffff36d5969fffn);
    assert.equal(timeStampToDate(0x7fffff36d5969fffn), null);
    assert.equal(timeStampToDate(0x7fffff36d5969fffn, { local: false }), null);
  });

  it('0x7FFFFFFFFFFFFFFF and everything from MAXTIMEQUADPART up are "never"', () => {
    for (const ts of [0x7fffffffffffffffn, 0x7fffffffffffff36n, MAXTIMEQUADPART + 1n]) assert.equal(timeStampToDate(ts), null, ts.toString(16));
  });

  it('0 and negative TimeStamps are "not reported" (null)', () => {
    assert.equal(timeStampToDate(0n), null);
    assert.equal(timeStampToDate(-1n), null);
  });

  it('just below MAXTIMEQUADPART is still a date (year 30828)', () => {
    const d = timeStampToDate(MAXTIMEQUADPART - 10_000_000n * 86400n * 365n, { local: false });
    assert.ok(d instanceof Date);
    assert.equal(d.getUTCFullYear(), 30827);
  });

  it('{ local: false } reads a FILETIME (UTC) exactly', () => {
    const when = new Date(Date.UTC(2026, 10, 21, 20, 0, 0, 123));
    assert.equal(timeStampToDate(utcTimeStamp(when), { local: false })?.toISOString(), when.toISOString());
  });

  it('by default a TimeStamp is local time (SSPI: "The security package must return this value in local time")', () => {
    const now = new Date();
    const ts = localTimeStamp(now);
    assert.equal(timeStampToDate(ts, { at: now })?.getTime(), now.getTime(), `TZ offset ${now.getTimezoneOffset()} min`);
  });

  it('"local now + lifetime" comes back as now + lifetime, whatever the bias at the expiry instant (DST)', () => {
    const now = new Date();
    // A package computes local(now) + lifetime with the bias in force now; ten hours and ten days.
    for (const lifetimeMs of [10 * 3600 * 1000, 10 * 86400 * 1000, 200 * 86400 * 1000]) {
      const ts = localTimeStamp(now) + BigInt(lifetimeMs) * 10000n;
      assert.equal(timeStampToDate(ts, { at: now })?.getTime(), now.getTime() + lifetimeMs, `lifetime ${lifetimeMs} ms`);
    }
  });

  it('the conversion uses the bias of `at` (the moment the call returned)', () => {
    // Two instants half a year apart: in a zone with DST their offsets differ and so do the results.
    const winter = new Date(Date.UTC(2026, 0, 15, 12));
    const summer = new Date(Date.UTC(2026, 6, 15, 12));
    const ts = utcTimeStamp(winter);
    const a = timeStampToDate(ts, { at: winter })!.getTime();
    const b = timeStampToDate(ts, { at: summer })!.getTime();
    assert.equal(a - winter.getTime(), winter.getTimezoneOffset() * 60000);
    assert.equal(b - winter.getTime(), summer.getTimezoneOffset() * 60000);
  });

  it('a TimeStamp that is not a bigint is a TypeError', () => {
    assert.throws(() => timeStampToDate(5 as unknown as bigint), TypeError);
  });
});
