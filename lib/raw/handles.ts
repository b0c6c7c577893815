/**
 * The two SSPI handle types of the raw layer, as the addon makes them.
 * @packageDocumentation
 */
import { native } from '../native';

/**
 * A CredHandle ([SecHandle](https://learn.microsoft.com/en-us/windows/win32/secauthn/sechandle)) owned
 * by the addon. Only {@link AcquireCredentialsHandle} makes one (JavaScript cannot construct or forge
 * it). FreeCredentialsHandle runs on {@link FreeCredentialsHandle} / `free()`, or in its finalizer when
 * it is garbage-collected; while asynchronous calls use it, a free waits for the last of them.
 */
export interface CredHandle {
  /** False once freed (or once a free waits for pending calls). */
  readonly valid: boolean;
  /** FreeCredentialsHandle: its status; 0 if already freed; undefined when deferred to pending calls. */
  free(): number | undefined;
}

/**
 * A CtxtHandle owned by the addon. Create an empty one with {@link newCtxtHandle} (or
 * `new CtxtHandle()`); the first InitializeSecurityContext / AcceptSecurityContext (or
 * ImportSecurityContext) fills it, and later calls use it (SSPI's phContext and phNewContext are the
 * same object here). One call at a time: a call while an asynchronous one is pending throws.
 * DeleteSecurityContext runs on {@link DeleteSecurityContext} / `delete()`, or in its finalizer.
 */
export interface CtxtHandle {
  /** True once a call created the context, until it is deleted. */
  readonly valid: boolean;
  /** DeleteSecurityContext: its status; 0 if nothing to delete; undefined when deferred to a pending call. */
  delete(): number | undefined;
}

/** A new, empty CtxtHandle for a first InitializeSecurityContext / AcceptSecurityContext / ImportSecurityContext. */
export function newCtxtHandle(): CtxtHandle {
  return new (native().CtxtHandle)();
}

/**
 * [FreeCredentialsHandle](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-freecredentialshandle).
 * @returns its SECURITY_STATUS (SEC_E_OK; SEC_E_INVALID_HANDLE), SEC_E_OK when the handle was already
 *   freed, or undefined when asynchronous calls still use the handle: it is freed when the last ends.
 * @throws TypeError when `phCredential` is not a CredHandle.
 */
export function FreeCredentialsHandle(phCredential: CredHandle): number | undefined {
  return callMember(phCredential, 'free', 'phCredential', 'CredHandle');
}

/**
 * [DeleteSecurityContext](https://learn.microsoft.com/en-us/windows/win32/api/sspi/nf-sspi-deletesecuritycontext).
 * @returns its SECURITY_STATUS (SEC_E_OK; SEC_E_INVALID_HANDLE), SEC_E_OK when there was nothing to
 *   delete (never filled, or already deleted), or undefined during a pending asynchronous call: the
 *   context is deleted when that call ends, and no further call is accepted.
 * @throws TypeError when `phContext` is not a CtxtHandle.
 */
export function DeleteSecurityContext(phContext: CtxtHandle): number | undefined {
  return callMember(phContext, 'delete', 'phContext', 'CtxtHandle');
}

function callMember(handle: unknown, member: 'free' | 'delete', what: string, type: string): number | undefined {
  const cls = member === 'free' ? native().CredHandle : native().CtxtHandle;
  if (!(handle instanceof (cls as unknown as new () => object))) throw new TypeError(`${what} must be a ${type}`);
  // The native member checks the receiver's type tag as well.
  return (cls.prototype as Record<string, () => number | undefined>)[member].call(handle);
}
