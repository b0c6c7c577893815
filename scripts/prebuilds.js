#!/usr/bin/env node
// Checks the prebuilt addons the package ships (prebuilds/<platform>-<arch>/node.napi.node, where
// node-gyp-build looks for them at run time): each named one exists and is a Windows DLL for its
// machine (PE header: signature, Machine, IMAGE_FILE_DLL). Plain Node, no bash or compiler, so `npm pack`
// (prepack) runs it on Windows as on Linux; building the addons is a separate step (npm run build:native
// on Linux, MSVC for arm64 in CI).
//
//   node scripts/prebuilds.js                      win32-x64 and win32-ia32 (what build-native.sh makes),
//                                                  plus any other prebuilds/ folder present
//   node scripts/prebuilds.js win32-x64 ...        exactly these (CI's pack job names all three)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// IMAGE_FILE_HEADER.Machine: https://learn.microsoft.com/en-us/windows/win32/debug/pe-format#machine-types
const MACHINES = { 'win32-x64': 0x8664, 'win32-ia32': 0x14c, 'win32-arm64': 0xaa64 };
const IMAGE_FILE_DLL = 0x2000;

const root = path.join(__dirname, '..', 'prebuilds');
let wanted = process.argv.slice(2);
if (wanted.length === 0) {
  const present = fs.existsSync(root) ? fs.readdirSync(root) : [];
  wanted = [...new Set(['win32-x64', 'win32-ia32', ...present])];
}

const problems = [];
for (const dir of wanted) {
  const file = path.join(root, dir, 'node.napi.node');
  const machine = MACHINES[dir];
  if (machine === undefined) {
    problems.push(`prebuilds/${dir}: not a platform this package ships (${Object.keys(MACHINES).join(', ')})`);
    continue;
  }
  if (!fs.existsSync(file)) {
    problems.push(`prebuilds/${dir}/node.napi.node is missing (npm run build:native builds win32-x64 and win32-ia32; CI builds win32-arm64)`);
    continue;
  }
  const b = fs.readFileSync(file);
  const pe = b.length >= 0x40 ? b.readUInt32LE(0x3c) : -1;
  if (pe < 0 || pe + 24 > b.length || b.toString('latin1', pe, pe + 4) !== 'PE\0\0') {
    problems.push(`prebuilds/${dir}/node.napi.node: no PE signature`);
    continue;
  }
  const found = b.readUInt16LE(pe + 4);
  if (found !== machine) problems.push(`prebuilds/${dir}/node.napi.node: machine 0x${found.toString(16)}, want 0x${machine.toString(16)}`);
  else if (!(b.readUInt16LE(pe + 22) & IMAGE_FILE_DLL)) problems.push(`prebuilds/${dir}/node.napi.node: not a DLL (IMAGE_FILE_DLL unset)`);
  else console.log(`prebuilds/${dir}/node.napi.node: machine 0x${found.toString(16)}, DLL, ${b.length} bytes`);
}
if (problems.length) {
  for (const p of problems) console.error(`prebuilds: ${p}`);
  process.exit(1);
}
