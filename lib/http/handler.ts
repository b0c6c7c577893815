/**
 * undici's two dispatch handler interfaces, as {@link NegotiateAgent} meets them.
 *
 * A Dispatcher is called as `dispatch(options, handler)` by whoever sends the request: undici's own
 * `fetch`/`request`, or Node's global `fetch`, which bundles its own undici. The handler comes in one of
 * two shapes:
 * - the first one (`onConnect`, `onHeaders`, `onData`, `onComplete`, `onError`, `onUpgrade`): undici 6,
 *   so Node 18-22's global fetch and this package's undici; undici 7 (Node 24) passes handlers that have
 *   both sets of methods;
 * - the controller one (`onRequestStart`, `onResponseStart`, `onResponseData`, `onResponseEnd`,
 *   `onResponseError`, `onRequestUpgrade`): undici 8, so Node 26's global fetch, which passes handlers
 *   with only these methods. Flow control is a controller object (`pause`, `resume`, `abort`) handed to
 *   every call, instead of return values and callbacks.
 *
 * NegotiateAgent is written against the first shape; {@link toLegacyHandler} lets it serve the second.
 * See https://github.com/nodejs/undici/blob/main/docs/docs/api/Dispatcher.md ("dispatch").
 *
 * @module
 */
import type { Dispatcher } from 'undici';

/** The controller a controller-style handler is given: flow control for one request. */
export interface DispatchController {
  /** Stops the request; `reason` becomes the error the request fails with. */
  abort(reason: Error): void;
  /** Asks for no more body chunks until {@link DispatchController.resume}. */
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  /** The response's raw header list (name, value, ...), which Node 26's fetch reads to keep duplicates in order. */
  readonly rawHeaders?: Buffer[];
}

/** Response headers as the controller-style handler takes them: lower-case names, repeated ones as arrays. */
export type ParsedHeaders = Record<string, string | string[]>;

/** A dispatch handler in undici 8's controller shape (the methods Node 26's fetch implements). */
export interface ControllerDispatchHandler {
  onRequestStart?(controller: DispatchController, context: unknown): void;
  onRequestUpgrade?(controller: DispatchController, statusCode: number, headers: ParsedHeaders, socket: unknown): void;
  onResponseStart?(controller: DispatchController, statusCode: number, headers: ParsedHeaders, statusMessage?: string): void;
  onResponseData?(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd?(controller: DispatchController, trailers: ParsedHeaders): void;
  onResponseError?(controller: DispatchController, error: Error): void;
  /** Timing hook Node's fetch calls when the response begins (no arguments). */
  onResponseStarted?(): void;
}

/** Whether `handler` is controller-style only (it has none of the first shape's response methods). */
export function isControllerHandler(handler: object): handler is ControllerDispatchHandler {
  const h = handler as Record<string, unknown>;
  return typeof h.onHeaders !== 'function' && typeof h.onComplete !== 'function'
    && (typeof h.onRequestStart === 'function' || typeof h.onResponseStart === 'function' || typeof h.onResponseError === 'function');
}

/**
 * Parses a raw header list (name, value, name, value, ...; Buffers or strings) into the object form:
 * names lower-cased, a repeated header's values in an array in their order.
 */
export function parseRawHeaders(raw: readonly (Buffer | string)[] | null | undefined): ParsedHeaders {
  const out: ParsedHeaders = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toString().toLowerCase();
    const value = raw[i + 1].toString('latin1');
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [had, value];
  }
  return out;
}

class Controller implements DispatchController {
  paused = false;
  aborted = false;
  reason: Error | null = null;
  rawHeaders?: Buffer[];
  /** The first shape's resume callback (onHeaders' third argument): one for the whole response. */
  resumeWaiting: (() => void) | undefined;

  constructor(private readonly abortRequest: (reason: Error) => void) {}

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.abortRequest(reason);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeWaiting?.();
  }
}

/**
 * A first-shape view of `handler`: itself if it already has that shape, else an adapter that calls the
 * controller-style methods (pause/resume through the controller, headers parsed from the raw list, an
 * error reported through `onResponseError`). Never throws; the adapter holds no resources.
 */
export function toLegacyHandler(handler: Dispatcher.DispatchHandlers | ControllerDispatchHandler): Dispatcher.DispatchHandlers {
  if (!isControllerHandler(handler)) return handler as Dispatcher.DispatchHandlers;
  const h = handler;
  let controller = new Controller(() => undefined);
  const toBuffers = (raw: readonly (Buffer | string)[] | null | undefined): Buffer[] =>
    (raw ?? []).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'latin1')));
  const legacy: Dispatcher.DispatchHandlers = {
    onConnect(abort: (err?: Error) => void, context?: object): void {
      controller = new Controller((reason) => abort(reason));
      h.onRequestStart?.(controller, context);
    },
    onResponseStarted(): void {
      h.onResponseStarted?.();
    },
    onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null, resume: () => void, statusText?: string): boolean {
      controller.resumeWaiting = resume;
      controller.rawHeaders = toBuffers(rawHeaders);
      h.onResponseStart?.(controller, statusCode, parseRawHeaders(rawHeaders), statusText);
      return !controller.paused;
    },
    onData(chunk: Buffer): boolean {
      h.onResponseData?.(controller, chunk);
      return !controller.paused;
    },
    onComplete(trailers: string[] | null): void {
      h.onResponseEnd?.(controller, parseRawHeaders(trailers));
    },
    onError(err: Error): void {
      h.onResponseError?.(controller, err);
    },
    onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: unknown): void {
      controller.rawHeaders = toBuffers(rawHeaders);
      h.onRequestUpgrade?.(controller, statusCode, parseRawHeaders(rawHeaders), socket);
    },
  } as Dispatcher.DispatchHandlers;
  return legacy;
}
