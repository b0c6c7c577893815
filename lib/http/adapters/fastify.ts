/**
 * A Fastify plugin over {@link IntegratedAuthenticator}: the handshake is the core's; this file
 * only hands its result to Fastify.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

import { AuthenticatedIdentity, IntegratedAuthenticator } from '../server';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated client, set by {@link sspiFastify}'s `onRequest` hook; null before it ran. */
    sspi: AuthenticatedIdentity | null;
  }
}

/** Options of {@link sspiFastify}. */
export interface SspiFastifyOptions {
  /** The authenticator (stays the caller's: close it when the server stops, e.g. in an `onClose` hook). */
  authenticator: IntegratedAuthenticator;
}

const plugin: FastifyPluginAsync<SspiFastifyOptions> = async (fastify, options) => {
  const authenticator = options?.authenticator;
  if (!(authenticator instanceof IntegratedAuthenticator)) throw new TypeError('options.authenticator must be an IntegratedAuthenticator');
  fastify.decorateRequest('sspi', null);
  fastify.addHook('onRequest', async (request, reply) => {
    if (authenticator.exempt(request.raw)) return; // a skipped path or a CORS preflight: sspi stays null
    const identity = await authenticator.authenticate(request.raw, reply.raw);
    if (!identity) {
      // The core answered on reply.raw (401, 503, an HTTP/2 stream reset). reply.hijack() is
      // Fastify's documented way to say so: no handler, no later hooks, no second answer; the
      // onResponse hooks still run (https://fastify.dev/docs/latest/Reference/Reply/#hijack).
      reply.hijack();
      return;
    }
    request.sspi = identity;
  });
};

/**
 * Fastify plugin (wrapped with fastify-plugin, so it applies to the routes of the instance it is
 * registered on, not only to an encapsulated child): decorates requests with `sspi` (null until
 * authenticated) and adds an `onRequest` hook that authenticates each request with
 * `options.authenticator` ({@link IntegratedAuthenticator.authenticate} on `request.raw`/`reply.raw`:
 * AcceptSecurityContext per leg; except what IntegratedAuthenticator.exempt passes: a `skip` path,
 * a CORS preflight, with `request.sspi` null) and sets `request.sspi` to the {@link AuthenticatedIdentity}. A
 * request that is not (yet) authenticated is answered by the core (401 with `WWW-Authenticate`, 503
 * with `Retry-After`) and the reply is hijacked, so the route handler does not run. A core rejection
 * (the server's own credentials: SspiError; the authenticator closed) goes to Fastify's error handler.
 *
 * ```ts
 * const auth = new IntegratedAuthenticator();
 * await app.register(sspiFastify, { authenticator: auth });
 * app.addHook('onClose', () => auth.close());
 * ```
 * Registering throws TypeError when `options.authenticator` is not an IntegratedAuthenticator.
 */
export const sspiFastify: FastifyPluginAsync<SspiFastifyOptions> = fp(plugin, { fastify: '4.x || 5.x', name: 'sspi' });
