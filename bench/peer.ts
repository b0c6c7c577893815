/**
 * node-expose-sspi 0.1.60 in a node.exe of its own, one figure per process: the side-by-side tables
 * (bench/handshakes.ts) run it through {@link NesPeer} (bench/common.ts) instead of loading it into the
 * process that measures this library.
 *
 * Why a process of its own: under Wine, 30,000 node-expose-sspi handshakes leave the process's Windows
 * heap fragmented, and every later allocation in that process walks long free lists (a perf profile of
 * the JavaScript thread: 35% in ntdll's heap_allocate_block, one instruction of its free-list loop). In
 * one shared process our figures measured after node-expose-sspi's (every round) came out 10-40% lower
 * and the event loop's p99 rose from ~7 ms to 19-37 ms: that was node-expose-sspi's cost, charged to
 * us. Each figure of node-expose-sspi's now comes from a fresh process, warmed up inside it; ours from
 * the long-lived process that never loads it.
 *
 * Usage (from NesPeer): node.exe peer.js <node-expose-sspi folder> <request file> <result file>.
 * The request is JSON ({@link PeerRequest}); the result JSON is a Rate or a LoopDelay. node.exe under
 * Wine cannot write to a pipe, hence the files. The explicit NTLM identity comes in the environment
 * (SSPI_PEER_USER, SSPI_PEER_DOMAIN, SSPI_PEER_PASSWORD), never on a command line.
 */

import * as fs from 'node:fs';

import { eventLoopDelay, loadNes, NES_ASC, NES_ISC, NesSspi, rate } from './common';

/** What one peer process measures. */
export interface PeerRequest {
  /** 'handshakes': handshakes per second (Rate); 'eventloop': batches of 50 synchronous handshakes (LoopDelay). */
  mode: 'handshakes' | 'eventloop';
  package: 'Kerberos' | 'Negotiate' | 'NTLM';
  /** The SPN, or '' (NTLM). */
  target: string;
  seconds: number;
  /** Warm-up seconds before the figure (tickets cached, code paths compiled). */
  warm: number;
  /** At most this many handshakes (handshakes mode). */
  maxCount?: number;
}

const TOKEN = 12000;

/** One node-expose-sspi handshake function with its credentials, and their release. */
function nesKit(nes: NesSspi, pkg: string, target: string): { handshake: () => void; dispose: () => void } {
  const user = process.env.SSPI_PEER_USER;
  const authData = user ? { user, domain: process.env.SSPI_PEER_DOMAIN ?? '', password: process.env.SSPI_PEER_PASSWORD ?? '' } : undefined;
  const nc = nes.AcquireCredentialsHandle({ packageName: pkg, credentialUse: 'SECPKG_CRED_OUTBOUND', ...(authData ? { authData } : {}) }).credential;
  const ns = nes.AcquireCredentialsHandle({ packageName: pkg, credentialUse: 'SECPKG_CRED_INBOUND' }).credential;
  const handshake = (): void => {
    let c = nes.InitializeSecurityContext({ credential: nc, targetName: target, cbMaxToken: TOKEN, contextReq: NES_ISC });
    let s: ReturnType<NesSspi['AcceptSecurityContext']> | undefined;
    try {
      for (let leg = 0; leg < 10; leg++) {
        if (c.SECURITY_STATUS !== 'SEC_E_OK' && c.SECURITY_STATUS !== 'SEC_I_CONTINUE_NEEDED') throw new Error(`node-expose-sspi ISC: ${c.SECURITY_STATUS}`);
        if (!c.SecBufferDesc.buffers[0]?.byteLength) break;
        s = nes.AcceptSecurityContext({ credential: ns, SecBufferDesc: c.SecBufferDesc, contextReq: NES_ASC, ...(s ? { contextHandle: s.contextHandle } : {}) });
        if (s.SECURITY_STATUS !== 'SEC_E_OK' && s.SECURITY_STATUS !== 'SEC_I_CONTINUE_NEEDED') throw new Error(`node-expose-sspi ASC: ${s.SECURITY_STATUS}`);
        if (!s.SecBufferDesc.buffers[0]?.byteLength) break;
        c = nes.InitializeSecurityContext({ credential: nc, targetName: target, cbMaxToken: TOKEN, contextHandle: c.contextHandle,
          SecBufferDesc: s.SecBufferDesc, contextReq: NES_ISC });
      }
      if (c.SECURITY_STATUS !== 'SEC_E_OK' || s?.SECURITY_STATUS !== 'SEC_E_OK') throw new Error(`node-expose-sspi: not complete (${c.SECURITY_STATUS}, ${s?.SECURITY_STATUS})`);
    } finally {
      nes.DeleteSecurityContext(c.contextHandle);
      if (s) nes.DeleteSecurityContext(s.contextHandle);
    }
  };
  return { handshake, dispose: () => { nes.FreeCredentialsHandle(nc); nes.FreeCredentialsHandle(ns); } };
}

async function main(): Promise<void> {
  const [nesDir, requestFile, resultFile] = process.argv.slice(2);
  const request = JSON.parse(fs.readFileSync(requestFile, 'utf8')) as PeerRequest;
  const nes = loadNes(nesDir);
  if (!nes) throw new Error('no node-expose-sspi folder');
  const kit = nesKit(nes, request.package, request.target);
  try {
    const maxCount = request.maxCount ?? Infinity;
    if (request.mode === 'handshakes') {
      await rate(request.warm, kit.handshake, 1, maxCount);
      fs.writeFileSync(resultFile, JSON.stringify(await rate(request.seconds, kit.handshake, 1, maxCount, true)));
    } else {
      const batch = async (): Promise<void> => {
        for (let i = 0; i < 50; i++) kit.handshake();
        await new Promise((r) => setImmediate(r));
      };
      await rate(request.warm, kit.handshake);
      fs.writeFileSync(resultFile, JSON.stringify(await eventLoopDelay(request.seconds, batch)));
    }
  } finally {
    kit.dispose();
  }
}

main().catch((e: unknown) => {
  const resultFile = process.argv[4];
  if (resultFile) fs.writeFileSync(resultFile, JSON.stringify({ error: (e as Error).message ?? String(e) }));
  process.exitCode = 1;
});
