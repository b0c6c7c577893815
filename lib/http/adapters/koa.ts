/**
 * Koa middleware over {@link IntegratedAuthenticator}: the handshake is the core's; this file only
 * hands its result to Koa.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { AuthenticatedIdentity, IntegratedAuthenticator } from '../server';

/** The part of a Koa context the middleware uses (Koa's own `Context` has all of it). */
export interface SspiKoaContext {
  /** Node's request (`ctx.req`). */
  req: IncomingMessage;
  /** Node's response (`ctx.res`): the 401/503 legs are written to it. */
  res: ServerResponse;
  /** Koa's `ctx.state`: `sspi` is set to the identity once the request is authenticated. */
  state: { sspi?: AuthenticatedIdentity } & Record<string, unknown>;
  /** Koa's `ctx.respond`: set to false when the middleware has answered on `res` itself. */
  respond?: boolean;
}

/** A Koa middleware: `(ctx, next) => Promise`. */
export type SspiKoaMiddleware = (ctx: SspiKoaContext, next: () => Promise<unknown>) => Promise<void>;

/**
 * Koa middleware: authenticates each request with `authenticator`
 * ({@link IntegratedAuthenticator.authenticate} on `ctx.req`/`ctx.res`: AcceptSecurityContext per
 * leg), except what {@link IntegratedAuthenticator.exempt} passes (a `skip` path, a CORS preflight:
 * `next()` without an identity), sets `ctx.state.sspi` to the {@link AuthenticatedIdentity} and awaits `next()`. A request
 * that is not (yet) authenticated has been answered by the core on `ctx.res` (401, 503, an HTTP/2
 * stream reset): the middleware sets `ctx.respond = false`, so Koa leaves that answer alone, and
 * does not call `next`. A core rejection (the server's own credentials: SspiError; the
 * authenticator closed) and whatever later middleware throws propagate to Koa's error handling
 * (`app.on('error')`, an outer try/catch middleware).
 *
 * The authenticator stays the caller's: close it (IntegratedAuthenticator.close) when the server stops.
 * @throws TypeError when `authenticator` is not an IntegratedAuthenticator.
 */
export function sspiKoa(authenticator: IntegratedAuthenticator): SspiKoaMiddleware {
  if (!(authenticator instanceof IntegratedAuthenticator)) throw new TypeError('authenticator must be an IntegratedAuthenticator');
  return async (ctx, next) => {
    if (authenticator.exempt(ctx.req)) {
      await next(); // a skipped path or a CORS preflight: no identity
      return;
    }
    const identity = await authenticator.authenticate(ctx.req, ctx.res);
    if (!identity) {
      ctx.respond = false; // the core wrote the answer to ctx.res: Koa must not write another
      return;
    }
    ctx.state.sspi = identity;
    await next();
  };
}
