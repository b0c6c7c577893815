/**
 * Where did a child node.exe die? Reads Wine's debug trace of the child (WINEDEBUG=-all,+pid,+seh,+unwind,
 * +loaddll; see {@link WINEDEBUG_CRASH}) and names the faulting module and the call chain.
 *
 * Measured under Wine 10 (2026-11-21): node.exe prints nothing of its own on an access violation, and
 * Wine's AeDebug debugger (winedbg --auto) is not started for it (the process exits with status 5, or
 * 0xC0000005 seen from a parent node.exe, and no message, with WINEDEBUG=-all or fixme-all). With +seh,
 * Wine traces every exception it dispatches (`dispatch_exception code=c0000005 ... addr=...`); with
 * +unwind, each stack frame its handler search walks (`RtlVirtualUnwind2 type 1 base <module base> rip
 * <address>`); with +loaddll, each module's base (`Loaded L"C:\\windows\\system32\\MSV1_0.dll" at
 * 00006FFFFACD0000: builtin`); +pid prefixes every line with the process id, so the lines of Wine's
 * own services in the same trace are told apart. Wine's debug output goes to the Unix stderr the
 * process inherited, which is why the fuzz runs its children from Linux (a parent node.exe cannot
 * capture a child's trace).
 */

/** The WINEDEBUG the fuzz children run with. */
export const WINEDEBUG_CRASH = '-all,+pid,+seh,+unwind,+loaddll';

/** One stack frame of the fatal exception. */
export interface Frame {
  address: string;
  /** The address less the module's base: 'MSV1_0.dll+0x3d76' names the same place in every run. */
  offset: string;
  /** The module's file name ('MSV1_0.dll', 'node.napi.node'), or '?' if no loaded module holds it. */
  module: string;
  /** True for a Wine builtin DLL (Wine's own code), false for a native PE module (node.exe, our addon). */
  builtin: boolean;
}

export interface CrashReport {
  /** The exception code Wine dispatched last (e.g. 'c0000005 (EXCEPTION_ACCESS_VIOLATION)'), if any. */
  exception: string | null;
  /** The frames from the faulting one outwards, as far as Wine's unwinder walked (at most 12 kept). */
  frames: Frame[];
  /**
   * 'wine': the fault is in Wine's code, reached from our addon's call into secur32: every frame
   * inside our addon's call (from the faulting one to the first frame of node.napi.node) is a Wine
   * builtin, and one of them is a security provider or secur32 itself.
   * 'ours': anything else (a fault in node.napi.node or node.exe, no exception traced, no addon frame).
   */
  verdict: 'wine' | 'ours';
  /** One line for the report: 'MSV1_0.dll+0x3d76 <- Secur32.dll <- node.napi.node'. */
  summary: string;
}

/** Wine's modules that implement SSPI: secur32/sspicli dispatch, the providers behind it. */
const PROVIDERS = /^(secur32|sspicli|msv1_0|kerberos|negotiate|schannel|netapi32)\.dll$/i;

/**
 * Classifies the death of the child process whose trace is `trace`. `addon` is the file name of our
 * addon ('node.napi.node').
 */
export function classifyCrash(trace: string, addon = 'node.napi.node'): CrashReport {
  const lines = trace.split(/\r?\n/);
  // The node.exe process: the pid that loaded our addon.
  const addonLine = lines.find((l) => /:trace:loaddll:/.test(l) && l.includes(addon));
  const pid = addonLine ? addonLine.split(':')[0] : null;
  const mine = pid ? lines.filter((l) => l.startsWith(`${pid}:`)) : [];
  const modules: { base: bigint; name: string; builtin: boolean }[] = [];
  for (const l of mine) {
    const m = /:trace:loaddll:\w+ Loaded L"([^"]*)" at ([0-9A-Fa-f]+): (builtin|native)/.exec(l);
    if (m) modules.push({ base: BigInt(`0x${m[2]}`), name: m[1].replace(/\\\\/g, '\\').split('\\').pop()!, builtin: m[3] === 'builtin' });
  }
  // The last exception dispatched in that process, and the frames walked right after it on its thread.
  let at = -1;
  for (let i = mine.length - 1; i >= 0; i--) {
    if (/:trace:seh:dispatch_exception code=/.test(mine[i])) { at = i; break; }
  }
  if (at < 0) return { exception: null, frames: [], verdict: 'ours', summary: 'no exception traced (not a fault Wine dispatched)' };
  const tid = mine[at].split(':')[1];
  // An exception something handled (Wine's RPC raises and catches some) unwinds and goes on; the
  // fatal one is never unwound.
  if (mine.slice(at + 1).some((l) => l.split(':')[1] === tid && /:trace:seh:(RtlUnwindEx|RtlRestoreContext)/.test(l))) {
    return { exception: null, frames: [], verdict: 'ours', summary: 'the last exception traced was handled: the process did not die of a fault Wine dispatched' };
  }
  const exception = /code=(\S+ \([^)]*\))/.exec(mine[at])?.[1] ?? /code=(\S+)/.exec(mine[at])![1];
  const frames: Frame[] = [];
  for (let i = at + 1; i < mine.length; i++) {
    const l = mine[i];
    if (l.split(':')[1] !== tid) continue;
    if (/:trace:seh:dispatch_exception code=/.test(l)) break;
    const m = /RtlVirtualUnwind2 type \d+ base ([0-9a-f]+) rip ([0-9a-f]+)/.exec(l);
    if (!m) continue;
    const base = BigInt(`0x${m[1]}`);
    const mod = modules.filter((x) => x.base === base).pop();
    frames.push({ address: m[2], offset: `0x${(BigInt(`0x${m[2]}`) - base).toString(16)}`, module: mod?.name ?? '?', builtin: mod?.builtin ?? false });
    if (frames.length >= 12) break;
  }
  if (frames.length === 0) {
    // The faulting address itself, when no frame was walked.
    const addr = /addr=([0-9A-Fa-f]+)/.exec(mine[at])?.[1];
    if (addr) {
      const a = BigInt(`0x${addr}`);
      const mod = modules.filter((x) => x.base <= a).sort((x, y) => (x.base < y.base ? 1 : -1))[0];
      frames.push({ address: addr.toLowerCase(), offset: mod ? `0x${(a - mod.base).toString(16)}` : '?', module: mod?.name ?? '?', builtin: mod?.builtin ?? false });
    }
  }
  const inCall: Frame[] = [];
  let reachedAddon = false;
  for (const f of frames) {
    if (f.module === addon) { reachedAddon = true; break; }
    inCall.push(f);
  }
  const wine = reachedAddon && inCall.length > 0 && inCall.every((f) => f.builtin) && inCall.some((f) => PROVIDERS.test(f.module));
  // 'ucrtbase.dll+0x159c9 <- MSV1_0.dll+0x3d76 <- Secur32.dll+0x9dbf <- node.napi.node+0x93e5'
  const chain: string[] = [];
  let last = '';
  for (const f of frames.slice(0, inCall.length + 1)) {
    if (f.module !== last) chain.push(`${f.module}+${f.offset}`);
    last = f.module;
  }
  return { exception, frames, verdict: wine ? 'wine' : 'ours', summary: chain.join(' <- ') || 'no frame' };
}
