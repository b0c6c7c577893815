/**
 * The native addon (src-native/), loaded once, with its shapes typed.
 *
 * Only the loader and the addon's own services (queue, diagnostics, messages) are typed here; each
 * file of lib/raw/ types the native functions of its SSPI concern and is the only caller of them.
 *
 * Calls made with `async: true` run on the addon's own SSPI call queue (src-native/queue.cc, public
 * face in queue.ts), not on libuv's thread pool; when that queue is full their promise rejects at once
 * with an Error whose `code` is `'ERR_SSPI_QUEUE_FULL'`.
 * @packageDocumentation
 */
import * as path from 'node:path';

import type { CredHandle, CtxtHandle } from './raw/handles';
import type { SecPkgInfo } from './raw/packages';

export type { SecPkgInfo };

/** The SSPI call queue's settings (process-wide); see configureQueue in queue.ts. */
export interface NativeQueueOptions {
  /** Queue threads, 1 to 256. */
  threads?: number;
  /** Calls that may wait for a thread, 0 to 1,000,000; beyond: ERR_SSPI_QUEUE_FULL. */
  maxQueue?: number;
}

/** The SSPI call queue's settings and current figures (counts of calls and threads). */
export interface NativeQueueFigures {
  /** Threads the queue may run (the setting). */
  threads: number;
  /** Calls that may wait for a thread (the setting). */
  maxQueue: number;
  /** Threads started and not ended (they start as calls arrive, up to `threads`). */
  liveThreads: number;
  /** Calls waiting for a thread now. */
  queued: number;
  /** Calls taken by a queue thread and not yet handed back to their JavaScript thread. */
  running: number;
  /** Calls refused with ERR_SSPI_QUEUE_FULL since the process started. */
  rejected: number;
  /** Calls that left the queue since the process started (ran, or dropped because their worker ended). */
  completed: number;
}

export interface NativeBinding {
  CredHandle: new (...args: never[]) => CredHandle;
  CtxtHandle: new () => CtxtHandle;
  formatMessage(status: number): string;
  hostInfo(): { wine: string | null };
  /**
   * SSPI handles the addon holds now, process-wide (every environment, and calls in flight or cut
   * off by a worker's end): credentials from AcquireCredentialsHandle not yet freed, contexts a first
   * ISC/ASC created not yet deleted. A diagnostic for leak tests.
   */
  handleFigures(): { credentials: number; contexts: number; contextBuffersFreed: number };
  /** Sets the process-wide SSPI call queue's settings (absent fields unchanged); returns the figures. */
  configureQueue(options: NativeQueueOptions): NativeQueueFigures;
  /** The SSPI call queue's settings and current figures. */
  queueFigures(): NativeQueueFigures;
  /** Every constant of lib/constants.ts as the addon's compiler saw it in sspi.h / winerror.h. */
  headerConstants: Record<string, number>;
}

let cached: NativeBinding | undefined;

/**
 * The addon for this process: the prebuilt binary from prebuilds/ (or a local build) found by
 * node-gyp-build.
 * @throws Error on other platforms than Windows, where SSPI (Secur32.dll) does not exist, and on a
 *   Windows architecture with neither a prebuilt addon nor a local build (the message says how to build).
 */
export function native(): NativeBinding {
  if (cached) return cached;
  if (process.platform !== 'win32') {
    throw new Error(`sspi: SSPI (Secur32.dll) exists only on Windows; this is ${process.platform}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => NativeBinding;
  const root = path.join(__dirname, '..', '..');
  try {
    cached = load(root);
  } catch (e) {
    // node-gyp-build found no binary for this platform/architecture/runtime in prebuilds/ or build/.
    throw new Error(`sspi: no addon for win32-${process.arch} (the package ships prebuilds/win32-x64, win32-ia32 and win32-arm64); `
      + `build one in ${root} with \`npx cmake-js rebuild\` (CMake and Visual Studio's C++ tools): ${(e as Error).message}`, { cause: e });
  }
  return cached;
}
