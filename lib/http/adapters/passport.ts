/**
 * A Passport strategy over {@link IntegratedAuthenticator}: the handshake is the core's; this file
 * only hands its result to Passport.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { AuthenticatedIdentity, IntegratedAuthenticator } from '../server';

/**
 * Maps the authenticated client to the application's user: call `done(null, user)` to log it in,
 * `done(null, false)` to refuse it (403), `done(err)` for an error (Passport's `error`, next(err)).
 */
export type SspiVerify = (identity: AuthenticatedIdentity, done: (err: unknown, user?: unknown, info?: unknown) => void) => void;

/** The actions Passport adds to a strategy for one request (passport/lib/middleware/authenticate.js). */
interface StrategyActions {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(err: unknown): void;
  pass(): void;
}

/**
 * Passport strategy `'sspi'`: `passport.use(new SspiStrategy(authenticator))`, then
 * `passport.authenticate('sspi', { session: false })`. Each request is authenticated with
 * {@link IntegratedAuthenticator.authenticate} (AcceptSecurityContext per leg), except what
 * {@link IntegratedAuthenticator.exempt} passes (a `skip` path, a CORS preflight), which gets
 * Passport's `pass()` and no user. Once authenticated, `success(user)` with the identity (or what `verify` maps it to), so `req.user` is set.
 *
 * A request that is not (yet) authenticated has already been answered by the core: 401 with
 * `WWW-Authenticate` (the schemes, or the next handshake token), 503 with `Retry-After`; the strategy
 * then calls none of Passport's actions (Passport's own 401 would write headers a second time), so
 * the next middleware does not run and a `failureRedirect` does not apply: a Negotiate handshake
 * needs the 401 with its token. A core rejection (the server's own credentials: SspiError; the
 * authenticator closed) goes to `error(err)`.
 */
export class SspiStrategy {
  // Plain (not #private) fields: Passport calls authenticate() on Object.create(strategy), where
  // #private fields are not found.
  /** The strategy name Passport registers it under. */
  readonly name = 'sspi';
  private readonly authenticator: IntegratedAuthenticator;
  private readonly verify: SspiVerify | undefined;

  /**
   * @param authenticator - the authenticator (stays the caller's: close it when the server stops).
   * @param verify - optional; see {@link SspiVerify}. Default: the user is the {@link AuthenticatedIdentity}.
   * @throws TypeError when `authenticator` is not an IntegratedAuthenticator or `verify` not a function.
   */
  constructor(authenticator: IntegratedAuthenticator, verify?: SspiVerify) {
    if (!(authenticator instanceof IntegratedAuthenticator)) throw new TypeError('authenticator must be an IntegratedAuthenticator');
    if (verify !== undefined && typeof verify !== 'function') throw new TypeError('verify must be a function');
    this.authenticator = authenticator;
    this.verify = verify;
  }

  /** Called by Passport per request, with its actions bound to `this`. */
  authenticate(this: StrategyActions, req: IncomingMessage & { res?: ServerResponse }): void {
    // `this` is Object.create(strategy) with Passport's actions: the fields come from the prototype.
    const { authenticator, verify } = this as unknown as SspiStrategy;
    const res = req.res;
    if (!res) {
      this.error(new TypeError('SspiStrategy needs req.res (Express/connect requests have it)'));
      return;
    }
    let exempt: boolean;
    try {
      exempt = authenticator.exempt(req);
    } catch (err) {
      this.error(err);
      return;
    }
    if (exempt) {
      this.pass(); // a skipped path or a CORS preflight: on to the next middleware, no req.user
      return;
    }
    authenticator.authenticate(req, res).then((identity) => {
      if (!identity) return; // answered by the core (401/503)
      if (!verify) {
        this.success(identity);
        return;
      }
      try {
        verify(identity, (err, user, info) => {
          if (err) this.error(err);
          else if (!user) this.fail(info, 403);
          else this.success(user, info);
        });
      } catch (err) {
        this.error(err);
      }
    }, (err: unknown) => this.error(err));
  }
}
