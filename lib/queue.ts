/**
 * The SSPI call queue (src-native/queue.cc): where asynchronous SSPI calls run.
 *
 * Every asynchronous call of this library ({@link Credentials.acquire}, {@link SecurityContext.step})
 * runs on threads of the addon's own, not on libuv's thread pool, which also serves fs, dns.lookup,
 * crypto and zlib for the whole process: a domain controller that answers slowly, or a flood of
 * handshakes, then delays only SSPI calls. At most `maxQueue` calls wait for a thread; the next one is
 * refused at once: its promise rejects with an `Error` whose `code` is {@link ERR_SSPI_QUEUE_FULL}
 * (not an SSPI status, so not an {@link SspiError}); an HTTP server answers it with 503. Synchronous
 * calls (`acquireSync`, `stepSync`) run on the calling thread and never queue.
 *
 * The queue is process-wide: the main thread and every worker thread share its threads and its limit,
 * and each receives its own calls' results on its own JavaScript thread. A worker that ends with calls
 * in the queue drops them; the handles those calls had acquired are freed.
 * @packageDocumentation
 */
import { native, NativeQueueFigures } from './native';

/** The `code` of the Error a call gets when the SSPI call queue is full. */
export const ERR_SSPI_QUEUE_FULL = 'ERR_SSPI_QUEUE_FULL';

/** Settings of the SSPI call queue; an absent field keeps its current value. */
export interface QueueOptions {
  /**
   * How many SSPI calls run at once: a count of threads, an integer from 1 to 256. Default 4.
   *
   * SSPI calls mostly wait (on LSASS, and through it on a domain controller or KDC) rather than
   * compute, so they need threads, not cores; 4 is what libuv's pool gives by default, so moving the
   * calls to their own threads does not change how many reach LSASS at once. Raise it when calls wait
   * on a slow domain controller while the machine is idle.
   */
  threads?: number;
  /**
   * How many SSPI calls may wait for a thread: a count of calls, an integer from 0 to 1,000,000
   * (0: a call is refused whenever every thread is busy). Default 256.
   *
   * A handshake has at most one call in flight, so this bounds the handshake steps waiting at one
   * moment, not the handshakes open. At the ~70 ms a slow NTLM pass-through takes, 256 calls on 4
   * threads wait up to ~4.5 s, about where a browser's user gives up; refusing the next call at once
   * (503) keeps memory bounded (each waiting call holds its input token and an output buffer of the
   * package's cbMaxToken bytes, 12,000 for Kerberos) and tells a client to come back, instead of
   * answering it after it left.
   */
  maxQueue?: number;
}

/** The SSPI call queue's settings and current figures: counts of threads and of calls. */
export type QueueFigures = NativeQueueFigures;

function ownField(options: object, key: 'threads' | 'maxQueue'): unknown {
  return Object.prototype.hasOwnProperty.call(options, key) ? (options as Record<string, unknown>)[key] : undefined;
}

function checkCount(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Sets the process-wide SSPI call queue's thread count and length. Takes effect at once: more threads
 * start as calls wait; with fewer, threads above the number end when their current call does. Calls
 * already waiting stay queued even if they exceed a lowered `maxQueue`.
 *
 * No SSPI function is called.
 * @param options - {@link QueueOptions}: `threads` (1 to 256), `maxQueue` (0 to 1,000,000); only own
 *   properties are read.
 * @returns the settings and figures after the change ({@link queueFigures}).
 * @throws TypeError if `options` is not an object or a field is not a number; RangeError if a field is
 *   not an integer in its range.
 */
export function configureQueue(options: QueueOptions): QueueFigures {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object { threads?, maxQueue? }');
  }
  const threads = checkCount(ownField(options, 'threads'), 'threads', 1, 256);
  const maxQueue = checkCount(ownField(options, 'maxQueue'), 'maxQueue', 0, 1_000_000);
  const settings: QueueOptions = {};
  if (threads !== undefined) settings.threads = threads;
  if (maxQueue !== undefined) settings.maxQueue = maxQueue;
  return native().configureQueue(settings);
}

/**
 * The SSPI call queue's settings (`threads`, `maxQueue`) and figures now: `liveThreads` started,
 * `queued` calls waiting, `running` calls (taken by a thread, result not yet handed back), and since the
 * process started `rejected` calls (refused with {@link ERR_SSPI_QUEUE_FULL}) and `completed` ones
 * (ran, or dropped because their worker ended). Counts, process-wide (all threads and
 * workers). No SSPI function is called; nothing to free.
 */
export function queueFigures(): QueueFigures {
  return native().queueFigures();
}

/** True if `err` is the Error a call gets when the SSPI call queue is full ({@link ERR_SSPI_QUEUE_FULL}). */
export function isQueueFull(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === ERR_SSPI_QUEUE_FULL;
}
