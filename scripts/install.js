'use strict';
// npm "install" hook. On Windows, node-gyp-build uses the prebuilt binary from prebuilds/ when one
// matches this Node/architecture, and compiles from source with node-gyp (MSVC) only when none does.
// SSPI exists only on Windows, so elsewhere there is nothing to build: the package installs, and
// loading the addon reports that SSPI is Windows-only (lib/native.ts) instead of failing the install.
if (process.platform !== 'win32') process.exit(0);
const { spawnSync } = require('node:child_process');
const bin = require.resolve('node-gyp-build/bin.js');
const r = spawnSync(process.execPath, [bin], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
