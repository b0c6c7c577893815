/**
 * `sspi/raw`: the raw layer. One function per SSPI call, named as SSPI names it (without the W
 * suffix), with SSPI's argument order; SecBufferDescs as arrays of {@link SecBuffer} written back in
 * place; the SECURITY_STATUS returned as an unsigned 32-bit number, never thrown. Each call has a
 * synchronous form and an `...Async` form that runs on the addon's SSPI call queue. The facade
 * (`sspi`: Credentials, ClientContext, ServerContext, ...) is built on this layer only; its handles
 * are these same CredHandle / CtxtHandle objects (`credentials.handle`, `context.handle`), so a
 * facade object can be handed to a raw call and back.
 *
 * FreeContextBuffer has no function here: every buffer a package allocates (ISC/ASC output under
 * *_ALLOCATE_MEMORY, query results, package lists, packed contexts) is copied into JavaScript memory
 * and freed with FreeContextBuffer inside the call that received it, exactly once, on every path
 * (failure statuses, a worker ended before delivery). `handleFigures().contextBuffersFreed` counts
 * those frees.
 * @packageDocumentation
 */
export { bufferType, bytesOf } from './buffers';
export type { SecBuffer, SecBufferDesc } from './buffers';
export { newCtxtHandle, FreeCredentialsHandle, DeleteSecurityContext } from './handles';
export type { CredHandle, CtxtHandle } from './handles';
export * from './credentials';
export * from './contexts';
export * from './packages';
export * from './message';
export { handleFigures } from './diagnostics';
export type { HandleFigures } from './diagnostics';
export * from '../constants';
export * from './attributes';
export * from './tokens';
export * from './schannel';
