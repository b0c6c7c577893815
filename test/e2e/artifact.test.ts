import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repo = path.resolve(__dirname, '..', '..', '..');
// Both MinGW-w64 builds of scripts/build-native.sh, each read with its own binutils' objdump.
const prebuilds = [
  { arch: 'x64', objdump: 'x86_64-w64-mingw32-objdump', title: 'a PE32+ DLL for x86-64',
    format: /file format pei-x86-64$/m, magic: /^Magic\s+020b\s+\(PE32\+\)/m },
  { arch: 'ia32', objdump: 'i686-w64-mingw32-objdump', title: 'a PE32 DLL for i386',
    format: /file format pei-i386$/m, magic: /^Magic\s+010b\s+\(PE32\)/m },
].map((p) => ({ ...p, file: path.join(repo, 'prebuilds', `win32-${p.arch}`, 'node.napi.node') }));

interface DelayImport { dll: string; names: string[]; slots: number[]; codeSlots: number }

// The delay-load descriptors (ImgDelayDescr) of a PE image. objdump (binutils 2.40) prints no
// delay-import table, and GNU ld leaves the header's Delay Import Directory entry empty, so they
// are found by content, as dlltool's --output-delaylib lays them out: grAttrs 1 (RVAs), the RVA of
// a "*.dll"/"*.exe" name, then the module handle, IAT and INT RVAs, and no bound/unload tables.
function delayImports(file: string): DelayImport[] {
  const b = fs.readFileSync(file);
  const pe = b.readUInt32LE(0x3c);
  const opt = pe + 24;
  const pe32plus = b.readUInt16LE(opt) === 0x20b;
  const ptr = pe32plus ? 8 : 4;
  const imageBase = pe32plus ? Number(b.readBigUInt64LE(opt + 24)) : b.readUInt32LE(opt + 28);
  const sections = Array.from({ length: b.readUInt16LE(pe + 6) }, (_, i) => {
    const h = opt + b.readUInt16LE(pe + 20) + 40 * i;
    return { rva: b.readUInt32LE(h + 12), size: b.readUInt32LE(h + 16), raw: b.readUInt32LE(h + 20),
             code: (b.readUInt32LE(h + 36) & 0x20000000) !== 0 };  // IMAGE_SCN_MEM_EXECUTE
  });
  const offset = (rva: number) => {
    const s = sections.find((s) => rva >= s.rva && rva < s.rva + s.size);
    return s ? s.raw + rva - s.rva : -1;
  };
  const cstring = (rva: number) => {
    const o = offset(rva);
    return o < 0 ? '' : b.toString('latin1', o, b.indexOf(0, o));
  };
  const word = (o: number) => (ptr === 8 ? Number(b.readBigUInt64LE(o)) : b.readUInt32LE(o));
  const found: DelayImport[] = [];
  for (const s of sections) {
    for (let o = s.raw; o + 32 <= s.raw + s.size; o += 4) {
      const [attrs, name, hmod, iat, int, bound, unload, stamp] =
        Array.from({ length: 8 }, (_, k) => b.readUInt32LE(o + 4 * k));
      const dll = attrs === 1 ? cstring(name) : '';
      if (!/^[\w.-]+\.(dll|exe)$/i.test(dll) || bound || unload || stamp
          || offset(hmod) < 0 || offset(iat) < 0 || offset(int) < 0) continue;
      const names: string[] = [];
      const slots: number[] = [];
      for (let t = offset(int), u = offset(iat); word(t) !== 0; t += ptr, u += ptr) {
        names.push(cstring(word(t) + 2));  // IMAGE_IMPORT_BY_NAME: 2-byte hint, then the name
        slots.push(word(u));
      }
      // Before the first call, each IAT slot holds the address of its thunk, which calls the helper.
      const codeSlots = slots.filter((va) => sections.some((c) => c.code && va - imageBase >= c.rva
                                                             && va - imageBase < c.rva + c.size)).length;
      found.push({ dll, names, slots, codeSlots });
    }
  }
  return found;
}

// The shipped binary itself: what Windows needs to load it, and that it loads in a Node host whose
// executable is not called node.exe.
describe('the prebuilt addon', () => {
  for (const p of prebuilds) {
    it(`is ${p.title} under prebuildify's Node-API name (win32-${p.arch})`, async () => {
      const { stdout } = await run(p.objdump, ['-p', p.file]);
      assert.match(stdout, p.format);
      assert.match(stdout, p.magic);
      assert.match(stdout, /^Characteristics 0x[0-9a-f]+\n(?:\t.*\n)*\tDLL$/m, 'IMAGE_FILE_DLL');
      // What Node looks up with GetProcAddress: undecorated on i386 too (no _name, no name@N).
      const exported = stdout.split('[Ordinal/Name Pointer] Table\n')[1]?.split('\n\n')[0] ?? '';
      assert.deepEqual([...exported.matchAll(/^\t\[\s*\d+\] (\S+)$/gm)].map((m) => m[1]).sort(),
        ['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
    });
  }

  for (const p of prebuilds) {
    it(`imports only Windows system DLLs: no MinGW runtime (libstdc++, libgcc, libwinpthread) (win32-${p.arch})`, async () => {
      const { stdout } = await run(p.objdump, ['-p', p.file]);
      const dlls = [...stdout.matchAll(/^\s*DLL Name: (\S+)/gm)].map((m) => m[1].toLowerCase()).sort();
      assert.deepEqual(dlls, ['advapi32.dll', 'crypt32.dll', 'kernel32.dll', 'msvcrt.dll', 'secur32.dll']);
      // Node-API comes from the host through the delay-load import library, not a static import.
      assert.ok(!dlls.includes('node.exe'));
      const delayed = delayImports(p.file);
      assert.deepEqual(delayed.map((d) => d.dll), ['node.exe'], 'delay-loaded DLLs');
      const [{ names, slots, codeSlots }] = delayed;
      // Imported by their undecorated names (__cdecl), as node.exe exports them.
      assert.deepEqual(names.filter((n) => !/^(napi|node_api)_[a-z0-9_]+$/.test(n)), []);
      assert.ok(names.includes('napi_define_class') && names.includes('napi_create_string_utf16'), names.join(' '));
      assert.equal(codeSlots, slots.length, 'every delay IAT slot points at its thunk in code');
    });
  }

  // The ia32 line is the first x86 one of scripts/node-lines.json, where the Node builds are pinned.
  const lines = JSON.parse(fs.readFileSync(path.join(repo, 'scripts', 'node-lines.json'), 'utf8')) as { unit: string; compat: string[] };
  for (const [arch, line] of [['x64', lines.unit], ['ia32', lines.compat.find((l) => l.startsWith('win-x86@'))!]]) {
    it(`loads in a renamed node.exe (${arch}: the delay-load hook resolves Node-API from the host)`, async () => {
      const env = { ...process.env, SSPI_NODE: line };
      const { stdout: nodeExe } = await run('bash', ['scripts/wine-node.sh', '--path'], { cwd: repo, env });
      // Alone in its folder: no node.exe anywhere on the DLL search path for Windows to load instead.
      const dir = path.join(path.dirname(nodeExe.trim()), 'renamed-host');
      const renamed = path.join(dir, 'renamed-host.exe');
      if (!fs.existsSync(renamed)) {
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(nodeExe.trim(), renamed);
      }
      const { stdout } = await run('bash', ['scripts/wine-node.sh', '-e',
        "const s = require('./dist/lib'); console.log(process.execPath.split(/[\\\\/]/).pop(), process.arch, s.enumerateSecurityPackages().some((p) => p.Name === 'Negotiate'))"],
      { cwd: repo, env: { ...env, SSPI_WINE_EXE: renamed }, timeout: 120_000 });
      assert.equal(stdout.trim(), `renamed-host.exe ${arch} true`);
    });
  }
});
