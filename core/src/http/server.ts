import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { excerpt, MethodNotAllowedError } from '../errors.js';
import { CORE_VERSION } from '../version.js';
import { jsonBodyParser } from './body-parser.js';
import type { HttpContext } from './context.js';
import { protocolError } from './error-body.js';
import { createErrorHandler } from './error-handler.js';
import { graphqlRoutes } from './graphql/route.js';
import { type AuthOptions, authPlugin } from './plugins/auth.js';
import { RequestLog } from './request-log.js';
import { RouteMethods } from './route-methods.js';
import { backupRoutes } from './routes/backups.js';
import { batchRoutes } from './routes/batch.js';
import { metaRoutes } from './routes/meta.js';
import { nodeRoutes } from './routes/nodes.js';
import { objectRoutes } from './routes/objects.js';
import { schemaRoutes } from './routes/schema.js';
import { validatorCompiler } from './validator.js';

/** Request bodies above this size are refused with 413: about 8,600 objects with a 384-dimension vector. */
export const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Path parameters longer than this are refused with 414. Fastify's default, 100, refused class names
 * Weaviate accepts (up to 255 characters); no parameter of the API is longer than 255.
 */
export const PARAM_LIMIT_CHARS = 1024;

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = '/v1/openapi.json';

export interface ServerOptions {
  readonly context: HttpContext;
  readonly auth: AuthOptions;
  readonly logger: FastifyBaseLogger;
}

/**
 * The node's HTTP API: Weaviate's v1 routes under /v1, one log line per request, Weaviate-shaped
 * errors, optional API-key authentication, and the OpenAPI document at {@link OPENAPI_PATH}.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const errorHandler = createErrorHandler({ bodyBytes: BODY_LIMIT_BYTES, paramChars: PARAM_LIMIT_CHARS });
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new RequestLog(),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: PARAM_LIMIT_CHARS },
    // Errors of the router itself (a bad %-escape, a parameter too long), else answered by Fastify.
    frameworkErrors: errorHandler,
    exposeHeadRoutes: false,
  });
  app.setValidatorCompiler(validatorCompiler);
  // Weaviate parses any body as JSON whatever its content type (curl -d sends form encoding).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', jsonBodyParser());
  app.setErrorHandler(errorHandler);
  // While the node stops, answer requests in flight with Connection: close: otherwise a keep-alive
  // client's socket outlives them and close() waits out the keep-alive timeout (72 s).
  app.addHook('onSend', async (_request, reply) => {
    if (!options.context.ready()) reply.header('connection', 'close');
  });
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.url, route.method));
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      const error = new MethodNotAllowedError(request.method, allowed);
      return reply.status(405).header('allow', allowed.join(',')).send(protocolError(405, error.message));
    }
    return reply.status(404).send(protocolError(404, `path ${excerpt(path)} was not found`));
  });

  await app.register(swagger, {
    exposeHeadRoutes: true,
    openapi: {
      info: { title: 'Strata REST API (Weaviate v1 compatible)', version: CORE_VERSION },
      servers: [{ url: '/' }],
    },
  });
  await app.register(authPlugin, options.auth);
  await app.register(
    async (v1) => {
      await v1.register(metaRoutes, options.context);
      await v1.register(nodeRoutes, options.context);
      await v1.register(schemaRoutes, options.context);
      await v1.register(objectRoutes, options.context);
      await v1.register(batchRoutes, options.context);
      await v1.register(backupRoutes, options.context);
      await v1.register(graphqlRoutes, options.context);
      v1.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/v1' },
  );
  return app;
}
