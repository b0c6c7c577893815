/**
 * Adapters of {@link IntegratedAuthenticator} for Express 4/5, Koa and Passport (framework-free: they use
 * node:http types only). The Fastify plugin is its own entry point, `sspi/fastify` (./fastify.ts).
 */
export { sspiExpress } from './express';
export type { SspiExpressMiddleware } from './express';
export { sspiKoa } from './koa';
export type { SspiKoaContext, SspiKoaMiddleware } from './koa';
export { SspiStrategy } from './passport';
export type { SspiVerify } from './passport';
