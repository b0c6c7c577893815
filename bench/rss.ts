/**
 * Memory after many Kerberos handshakes: the process's RSS (and V8's heap and external memory) after a
 * warm-up, then after `count` more handshakes through the facade's async steps, 8 in flight; each
 * reading is taken after gc() when node runs with --expose-gc (scripts/bench.sh passes it), so what is
 * left is what leaked or what the allocators kept.
 */
import { Floor, fmt, reason } from './common';
import { HandshakeKit } from './handshakes';

interface Reading {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

async function settle(): Promise<Reading> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external };
}

/** Runs `count` async handshakes, `parallel` in flight. */
async function handshakes(kit: HandshakeKit, count: number, parallel: number): Promise<void> {
  let started = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (started < count) {
      started++;
      await kit.asyncHandshake();
    }
  }));
}

/** The same count of handshakes in C (floor.exe rss): what secur32 itself keeps, in bytes. */
function floorReadings(floor: Floor, count: number, spn: string): [number, number, number] {
  const [before, middle, after] = floor.run((out) => ['rss', String(count), out, spn])[0].split(' ').map(Number);
  return [before, middle, after];
}

export async function rssTable(kit: HandshakeKit, count: number, floor?: Floor, spn?: string): Promise<string[]> {
  const gc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  const warm = Math.min(2000, Math.ceil(count / 10));
  await handshakes(kit, warm, 8);
  const before = await settle();
  const start = performance.now();
  const half = Math.floor(count / 2);
  await handshakes(kit, half, 8);
  const middle = await settle();
  await handshakes(kit, count - half, 8);
  const seconds = (performance.now() - start) / 1000;
  const after = await settle();
  const mb = (b: number): string => fmt(b / 1048576);
  const delta = (k: keyof Reading): string => `${after[k] - before[k] >= 0 ? '+' : ''}${mb(after[k] - before[k])}`;
  const row = (name: string, k: keyof Reading, target: string): string =>
    `| ${name} | ${mb(before[k])} | ${mb(middle[k])} | ${mb(after[k])} | ${delta(k)} | ${target} |`;
  let floorRow = '| C floor (secur32 directly): working set | - | - | - | - | not run (no floor.exe) |';
  if (floor && spn) {
    try {
      const [b, m, a] = floorReadings(floor, count, spn);
      floorRow = `| C floor (secur32 directly, the same handshakes): working set | ${mb(b)} | ${mb(m)} | ${mb(a)} | ${a - b >= 0 ? '+' : ''}${mb(a - b)} | (what secur32 itself keeps) |`;
    } catch (e) {
      floorRow = `| C floor (secur32 directly): working set | failed: ${reason(e)} |  |  |  |  |`;
    }
  }
  return [
    `### Memory after ${count.toLocaleString('en-US')} Kerberos handshakes`,
    '',
    `The facade's async steps, 8 in flight, after ${warm.toLocaleString('en-US')} warm-up handshakes; ` +
      `${gc ? 'each reading after gc() (--expose-gc)' : 'node ran without --expose-gc: no gc() before the readings'}. ` +
      `The ${count.toLocaleString('en-US')} took ${seconds.toFixed(1)} s (${fmt(count / seconds)}/s). MiB (2^20 bytes); ` +
      'the reading half-way tells steady growth (a leak) from a plateau. The C floor runs the same count of handshakes ' +
      '(floor.exe rss: after 2,000 warm-up handshakes, the same calls as the floor\'s handshake table) and reports its ' +
      'working set: what secur32 keeps without this library.',
    '',
    `| memory | before | after ${half.toLocaleString('en-US')} | after ${count.toLocaleString('en-US')} | growth | target |`,
    '|---|---:|---:|---:|---:|---|',
    row('RSS', 'rss', '< 5 MB growth'),
    floorRow,
    row('V8 heap committed (heapTotal: grows with the young generation under load)', 'heapTotal', ''),
    row('V8 heap used', 'heapUsed', ''),
    row('external (Buffers)', 'external', ''),
  ];
}
