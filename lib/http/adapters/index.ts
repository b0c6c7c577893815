/** Adapters of {@link IntegratedAuthenticator} for Express 4/5, Fastify, Koa and Passport. */
export { sspiExpress } from './express';
export type { SspiExpressMiddleware } from './express';
export { sspiFastify } from './fastify';
export type { SspiFastifyOptions } from './fastify';
export { sspiKoa } from './koa';
export type { SspiKoaContext, SspiKoaMiddleware } from './koa';
export { SspiStrategy } from './passport';
export type { SspiVerify } from './passport';
