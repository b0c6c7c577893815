/**
 * SecBuffer and SecBufferDesc for the raw layer, and how results are written back into them.
 *
 * A SecBufferDesc is an array of {@link SecBuffer}s (ulVersion is always SECBUFFER_VERSION, cBuffers
 * is the array's length). As in C, SSPI reads and writes these buffers in place: after a call, each
 * SecBuffer object of the array you passed holds the BufferType and cbBuffer SSPI left in it, and
 * `pvBuffer` is a view of exactly `cbBuffer` bytes of the memory SSPI points to: your own Uint8Array
 * (written in place, e.g. by EncryptMessage), a slice of another buffer of the same array (the DATA
 * buffer DecryptMessage finds inside a STREAM buffer, the EXTRA bytes of a TLS input), a new Buffer
 * holding a copy of memory the package allocated (ISC_REQ_ALLOCATE_MEMORY / ASC_REQ_ALLOCATE_MEMORY:
 * the addon frees it with FreeContextBuffer inside the call, exactly once, also after a failure), or
 * null.
 *
 * Ownership, by the call's form:
 * - A synchronous call lends your Uint8Arrays to SSPI in place, as a C caller's memory: SSPI reads and
 *   writes them directly, nothing is copied in or out. No JavaScript runs between the addon taking the
 *   memory (after it has read every property of every SecBuffer) and SSPI returning. A view of a
 *   SharedArrayBuffer is the exception: another thread could change it while SSPI reads it, so SSPI gets
 *   a copy and the results are written back, as for an asynchronous call.
 * - An `...Async` call copies your buffers before it is queued (a queue thread never touches JavaScript
 *   memory, which you could change, transfer or detach meanwhile) and writes the results back into them
 *   when it settles.
 * Memory the addon supplies (cbBuffer without pvBuffer) and its copies come from a small cache of
 * blocks and are wiped when the call ends; what SSPI wrote there comes back in a new Buffer holding just
 * the bytes SecBuffers point to (a token's cbBuffer, not the cbMaxToken bytes supplied). Reusing a
 * SecBuffer object for another call works as in C: set cbBuffer (and pvBuffer) again first.
 * @packageDocumentation
 */

/** One SecBuffer ([SecBuffer](https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secbuffer)). */
export interface SecBuffer {
  /**
   * SECBUFFER_* type, possibly with the SECBUFFER_READONLY (0x80000000) or
   * SECBUFFER_READONLY_WITH_CHECKSUM (0x10000000) attribute bits. SSPI may change it (a TOKEN buffer
   * DecryptMessage turns into DATA, an EMPTY buffer that becomes EXTRA or MISSING).
   */
  BufferType: number;
  /**
   * Size in bytes. Before the call: how many bytes of `pvBuffer` SSPI may use (default: its whole
   * length), or, with no `pvBuffer`, how many zero bytes the addon supplies. After the call: what
   * SSPI wrote (a token's length; for SECBUFFER_EXTRA / SECBUFFER_MISSING a count of bytes, possibly
   * with a null pvBuffer).
   */
  cbBuffer?: number;
  /** The bytes, or null (SECBUFFER_EMPTY, a count-only buffer, or a buffer the package allocates). */
  pvBuffer?: Uint8Array | null;
}

/** A SecBufferDesc ([SecBufferDesc](https://learn.microsoft.com/en-us/windows/win32/api/sspi/ns-sspi-secbufferdesc)): its buffers. */
export type SecBufferDesc = SecBuffer[];

/**
 * What the addon reports for one SecBufferDesc after a call (src-native/buffers.cc, BufferDesc::Collect):
 * a Float64Array `[count, then per buffer: BufferType, cbBuffer, where, offset]`, alone or as the first
 * element of an array whose element 1 + j holds buffer j's bytes (see {@link writeBack}).
 */
export type NativeDescResult = Float64Array | [Float64Array, ...(Buffer | undefined)[]];

/**
 * `where` of {@link NativeDescResult}: the index of the buffer whose memory pvBuffer points into (>= 0),
 * memory the package allocated (its copy comes with the result), or -1: NULL, or memory nobody lent.
 */
const PACKAGE_MEMORY = -2;
const WORDS_PER_BUFFER = 4;

/** The pvBuffer of each SecBuffer as passed, kept to write results back into. */
export type Snapshot = { desc: SecBufferDesc; memory: (Uint8Array | null | undefined)[] } | null;

/** Remembers the caller's SecBuffer objects and Uint8Arrays before the call. */
export function snapshot(desc: SecBufferDesc | null | undefined): Snapshot {
  if (desc === null || desc === undefined || !Array.isArray(desc)) return null;
  return { desc: [...desc], memory: desc.map((b) => (b !== null && typeof b === 'object' ? b.pvBuffer : undefined)) };
}

/**
 * Writes a call's results back into the caller's SecBufferDesc: every span's bytes the addon returned
 * into the caller's Uint8Array (or a new Buffer where the addon supplied the memory), then each
 * SecBuffer's BufferType, cbBuffer and pvBuffer as SSPI left them.
 */
export function writeBack(snap: Snapshot, result: NativeDescResult | null): void {
  if (!snap || !result) return;
  const numbers = result instanceof Float64Array ? result : result[0];
  // Element 1 + j: buffer j's bytes (element 0 is `numbers`).
  const values = result instanceof Float64Array ? undefined : (result as unknown as (Buffer | undefined)[]);
  const count = numbers[0];
  const memory: (Uint8Array | null)[] = [];
  for (let j = 0; j < count; j++) {
    const own = snap.memory[j];
    const bytes = numbers[1 + WORDS_PER_BUFFER * j + 2] === PACKAGE_MEMORY ? undefined : values?.[1 + j];
    if (!bytes) {
      memory.push(own instanceof Uint8Array ? own : null);
    } else if (own instanceof Uint8Array && own.byteLength >= bytes.length) {
      own.set(bytes);
      memory.push(own);
    } else {
      memory.push(bytes);
    }
  }
  for (let i = 0; i < count; i++) {
    const w = 1 + WORDS_PER_BUFFER * i;
    const b = snap.desc[i];
    b.BufferType = numbers[w];
    b.cbBuffer = numbers[w + 1];
    const where = numbers[w + 2];
    if (where >= 0) {
      const mem = memory[where];
      const offset = numbers[w + 3];
      b.pvBuffer = mem ? mem.subarray(offset, Math.min(mem.byteLength, offset + b.cbBuffer)) : null;
    } else if (where === PACKAGE_MEMORY) {
      b.pvBuffer = values?.[1 + i] ?? null;
    } else {
      b.pvBuffer = null;
    }
  }
}

/** The SECBUFFER_* type of a BufferType, without the READONLY attribute bits. */
export function bufferType(type: number): number {
  return (type & 0x0fffffff) >>> 0;
}

/** The bytes a SecBuffer holds after a call: pvBuffer limited to cbBuffer (an empty Buffer for none). */
export function bytesOf(buffer: SecBuffer | undefined): Buffer {
  if (!buffer || !buffer.pvBuffer) return Buffer.alloc(0);
  const b = buffer.pvBuffer;
  const n = Math.min(b.byteLength, buffer.cbBuffer ?? b.byteLength);
  return Buffer.from(b.buffer, b.byteOffset, n);
}
