/**
 * Express 4 and 5 (and connect) middleware over {@link IntegratedAuthenticator}: the handshake is
 * the core's (IntegratedAuthenticator.authenticate); this file only hands its result to Express.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { AuthenticatedIdentity, IntegratedAuthenticator } from '../server';

declare global {
  // Express's own augmentation point (@types/express-serve-static-core merges `Express.Request`
  // into its Request), the one passport uses for `req.user`: `req.sspi` is typed wherever Express is.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The authenticated client, set by {@link sspiExpress}; undefined before it ran. */
      sspi?: AuthenticatedIdentity;
    }
  }
}

/** A connect/Express middleware: `(req, res, next)`. */
export type SspiExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Express (4 and 5) middleware: authenticates each request with `authenticator`
 * ({@link IntegratedAuthenticator.authenticate}: AcceptSecurityContext per leg), sets `req.sspi` to
 * the {@link AuthenticatedIdentity} and calls `next()`; what {@link IntegratedAuthenticator.exempt}
 * passes (a `skip` path, a CORS preflight) goes to `next()` with `req.sspi` undefined. A request that is not (yet) authenticated is
 * answered by the core (401 with `WWW-Authenticate`, 503 with `Retry-After`, or an HTTP/2 stream
 * reset) and `next` is not called. Errors the core rejects with (the server's own credentials cannot
 * be acquired: SspiError SEC_E_NO_CREDENTIALS and the like; the authenticator closed) go to
 * `next(err)`, Express's error handlers.
 *
 * The authenticator stays the caller's: close it (IntegratedAuthenticator.close) when the server stops.
 * @throws TypeError when `authenticator` is not an IntegratedAuthenticator.
 */
export function sspiExpress(authenticator: IntegratedAuthenticator): SspiExpressMiddleware {
  if (!(authenticator instanceof IntegratedAuthenticator)) throw new TypeError('authenticator must be an IntegratedAuthenticator');
  return authenticator.middleware();
}
